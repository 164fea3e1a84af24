"""Limits and formats the server checks (botocore sends these): each at its bound and past it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import orjson
import pytest

from tests.bedrock.support import (
    T0,
    gif,
    jpeg,
    make_client,
    new_invocation,
    new_session,
    png,
    put_text,
    raises_aws,
    session_arn,
    webp,
)
from tests.conftest import LiveServer

VALIDATION = "ValidationException"
AWS_MESSAGE = r"^1 validation error detected: Value '.*' at '{}' failed to satisfy constraint: "


def _put(client: Any, sid: str, iid: str, blocks: list[dict[str, Any]]) -> str:
    return str(
        client.put_invocation_step(
            sessionIdentifier=sid,
            invocationIdentifier=iid,
            invocationStepTime=T0,
            payload={"contentBlocks": blocks},
        )["invocationStepId"]
    )


def _image(data: bytes, fmt: str = "png") -> dict[str, Any]:
    return {"image": {"format": fmt, "source": {"bytes": data}}}


def test_metadata_entries_50_then_51(client: Any) -> None:
    meta = {f"k{i}": "v" for i in range(50)}
    sid = new_session(client, sessionMetadata=meta)
    assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == meta
    with raises_aws(VALIDATION, 400, match="length less than or equal to 50"):
        client.create_session(sessionMetadata={**meta, "k50": "v"})
    with raises_aws(VALIDATION, 400, match="sessionMetadata"):
        client.update_session(sessionIdentifier=sid, sessionMetadata={**meta, "k50": "v"})


def test_metadata_key_100_then_101(client: Any) -> None:
    new_session(client, sessionMetadata={"k" * 100: "v"})
    with raises_aws(VALIDATION, 400, match=r"Map keys must satisfy constraint: \[Member must"):
        client.create_session(sessionMetadata={"k" * 101: "v"})


def test_metadata_value_5000_then_5001(client: Any) -> None:
    sid = new_session(client, sessionMetadata={"k": "v" * 5000})
    assert client.get_session(sessionIdentifier=sid)["sessionMetadata"]["k"] == "v" * 5000
    with raises_aws(VALIDATION, 400, match="Map value must satisfy constraint"):
        client.create_session(sessionMetadata={"k": "v" * 5001})


def test_tags_per_request_200_then_201(server_factory: Any) -> None:
    server: LiveServer = server_factory(bedrock_max_tags_per_session=200)
    client = make_client(server.url)
    tags = {f"t{i}": "v" for i in range(200)}
    sid = new_session(client, tags=tags)
    assert client.list_tags_for_resource(resourceArn=session_arn(sid))["tags"] == tags
    with raises_aws(VALIDATION, 400, match="tags"):
        client.create_session(tags={**tags, "t200": "v"})
    with raises_aws(VALIDATION, 400, match="tags"):
        client.tag_resource(resourceArn=session_arn(sid), tags={**tags, "t200": "v"})


def test_tag_key_128_then_129_and_value_256_then_257(client: Any) -> None:
    sid = new_session(client, tags={"k" * 128: "v" * 256})
    arn = session_arn(sid)
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"k" * 128: "v" * 256}
    with raises_aws(VALIDATION, 400, match="Map keys"):
        client.tag_resource(resourceArn=arn, tags={"k" * 129: "v"})
    with raises_aws(VALIDATION, 400, match="Map value"):
        client.tag_resource(resourceArn=arn, tags={"k": "v" * 257})


def test_tag_keys_to_remove_200_then_201(client: Any) -> None:
    arn = session_arn(new_session(client, tags={"keep": "1"}))
    client.untag_resource(resourceArn=arn, tagKeys=[f"k{i}" for i in range(200)])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"keep": "1"}
    with raises_aws(VALIDATION, 400, match="tagKeys"):
        client.untag_resource(resourceArn=arn, tagKeys=[f"k{i}" for i in range(201)])


def test_tag_characters_and_empty_tag_map(client: Any) -> None:
    arn = session_arn(new_session(client))
    client.tag_resource(resourceArn=arn, tags={"a-Z_0 .:/=+@": "tab\there"})
    for bad in ({"café": "x"}, {"k": "#hash"}, {"k": "naïve"}):
        with raises_aws(VALIDATION, 400, match="regular expression pattern"):
            client.tag_resource(resourceArn=arn, tags=bad)
    with raises_aws(VALIDATION, 400, match="length greater than or equal to 1"):
        client.tag_resource(resourceArn=arn, tags={})  # botocore sends {}
    with raises_aws(VALIDATION, 400, match="tagKeys"):
        client.untag_resource(resourceArn=arn, tagKeys=["bad#key"])


def test_description_200_then_201(client: Any) -> None:
    sid = new_session(client)
    new_invocation(client, sid, description="d" * 200)
    with raises_aws(VALIDATION, 400, match=AWS_MESSAGE.format("description")):
        client.create_invocation(sessionIdentifier=sid, description="d" * 201)


def test_images_per_step_20_then_21(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    twenty = [_image(png(1, 1)) for _ in range(10)] + [
        {"image": {"format": "png", "source": {"s3Location": {"uri": f"s3://bkt/{i}.png"}}}}
        for i in range(10)
    ]
    _put(client, sid, iid, [{"text": "many"}, *twenty])
    with raises_aws(VALIDATION, 400, match="at most 20 image blocks"):
        _put(client, sid, iid, [*twenty, _image(png(1, 1))])


def test_image_size_3_75_mib_then_one_byte_more(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    limit = 3_932_160
    exact = png(2, 2)
    exact += b"\x00" * (limit - len(exact))
    step = _put(client, sid, iid, [_image(exact)])
    got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=iid, invocationStepId=step
    )
    assert got["invocationStep"]["payload"]["contentBlocks"][0]["image"]["source"]["bytes"] == exact
    with raises_aws(VALIDATION, 400, match=f"less than or equal to {limit} bytes"):
        _put(client, sid, iid, [_image(exact + b"\x00")])


@pytest.mark.parametrize(
    ("fmt", "make"), [("png", png), ("jpeg", jpeg), ("gif", gif), ("webp", webp)]
)
def test_image_dimensions_8000_then_8001(client: Any, fmt: str, make: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    _put(client, sid, iid, [_image(make(8000, 8000), fmt)])
    for width, height in ((8001, 10), (10, 8001)):
        with raises_aws(VALIDATION, 400, match=f"got {width}x{height}"):
            _put(client, sid, iid, [_image(make(width, height), fmt)])


def test_step_payload_size_limit_at_and_past_the_setting(server_factory: Any) -> None:
    server: LiveServer = server_factory(bedrock_max_step_payload_bytes=2048)
    client = make_client(server.url)
    sid = new_session(client)
    iid = new_invocation(client, sid)
    overhead = len(orjson.dumps({"contentBlocks": [{"text": ""}]}))
    put_text(client, sid, iid, "x" * (2048 - overhead))
    with raises_aws("ServiceQuotaExceededException", 400, match="2049 bytes; the limit is 2048"):
        put_text(client, sid, iid, "x" * (2049 - overhead))


def test_request_body_limit_answers_in_this_surface_shape(server_factory: Any) -> None:
    server: LiveServer = server_factory(max_body_bytes=1024)
    client = make_client(server.url)
    overhead = len(json.dumps({"sessionMetadata": {"k": ""}}))  # botocore's separators
    new_session(client, sessionMetadata={"k": "v" * (1024 - overhead)})
    with raises_aws(VALIDATION, 400, match="exceeds 1024 bytes"):
        client.create_session(sessionMetadata={"k": "v" * 1100})


def test_max_results_1000_then_1001(client: Any) -> None:
    sid = new_session(client)
    assert (
        client.list_invocation_steps(sessionIdentifier=sid, maxResults=1000)[
            "invocationStepSummaries"
        ]
        == []
    )
    with raises_aws(VALIDATION, 400, match="less than or equal to 1000"):
        client.list_invocation_steps(sessionIdentifier=sid, maxResults=1001)
    with raises_aws(VALIDATION, 400, match="maxResults"):
        client.list_sessions(maxResults=5000)


def test_next_token_2048_then_2049(client: Any) -> None:
    sid = new_session(client)
    with raises_aws(VALIDATION, 400, match="nextToken is invalid"):
        client.list_invocations(sessionIdentifier=sid, nextToken="t" * 2048)
    with raises_aws(VALIDATION, 400, match="length less than or equal to 2048"):
        client.list_invocations(sessionIdentifier=sid, nextToken="t" * 2049)


def test_uuids_must_be_lowercase(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    step = put_text(client, sid, iid, "x")
    with raises_aws(VALIDATION, 400, match=AWS_MESSAGE.format("sessionIdentifier")):
        client.get_session(sessionIdentifier=sid.upper())
    with raises_aws(VALIDATION, 400, match="invocationId"):
        client.create_invocation(sessionIdentifier=sid, invocationId=str(uuid.uuid4()).upper())
    with raises_aws(VALIDATION, 400, match="invocationIdentifier"):
        put_text(client, sid, iid.upper(), "x")
    with raises_aws(VALIDATION, 400, match="invocationStepId"):
        put_text(client, sid, iid, "x", invocationStepId=str(uuid.uuid4()).upper())
    with raises_aws(VALIDATION, 400, match="invocationStepId"):
        client.get_invocation_step(
            sessionIdentifier=sid, invocationIdentifier=iid, invocationStepId=step.upper()
        )
    with raises_aws(VALIDATION, 400, match="invocationIdentifier"):
        client.list_invocation_steps(sessionIdentifier=sid, invocationIdentifier="not-a-uuid")


def test_malformed_session_identifiers(client: Any) -> None:
    sid = new_session(client)
    for bad in (
        "not-a-session",
        f"arn:aws:bedrock:us-east-1:0000:session/{sid}",
        f"arn:aws:bedrock:us-east-1:000000000000:agent/{sid}",
        f"{sid}x",
        f"arn:aws:bedrock:us-east-1:000000000000:session/{sid}/extra",
    ):
        with raises_aws(VALIDATION, 400, match="sessionIdentifier"):
            client.get_session(sessionIdentifier=bad)


def test_content_block_formats(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    bad_blocks = [
        ([_image(png(), "bmp")], "enum value set: \\[png, jpeg, gif, webp\\]"),
        ([_image(b"")], "length greater than or equal to 1"),
        (
            [{"image": {"format": "png", "source": {"s3Location": {"uri": "https://x/y.png"}}}}],
            "regular expression pattern",
        ),
        (
            [{"image": {"format": "png", "source": {"s3Location": {"uri": "s3://B/y.png"}}}}],
            "s3Location.uri",
        ),
    ]
    for blocks, message in bad_blocks:
        with raises_aws(VALIDATION, 400, match=message):
            _put(client, sid, iid, blocks)
    assert client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"] == []


def test_raw_requests_botocore_would_refuse(client: Any, http: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    step_url = f"/sessions/{sid}/invocationSteps/"
    ok = {"invocationIdentifier": iid, "invocationStepTime": "2025-03-01T12:00:00Z"}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("PUT", step_url, {**ok, "payload": {"contentBlocks": [{"text": ""}]}}, "text"),
        ("PUT", step_url, {**ok, "payload": {"contentBlocks": []}}, "contentBlocks"),
        ("PUT", step_url, {**ok, "payload": {}}, "exactly one member"),
        ("PUT", step_url, {**ok, "payload": {"contentBlocks": [{}]}}, "exactly one member"),
        (
            "PUT",
            step_url,
            {**ok, "payload": {"contentBlocks": [{"text": "a", "image": {"format": "png"}}]}},
            "exactly one member",
        ),
        ("PUT", step_url, {**ok, "invocationStepTime": "yesterday", "payload": {}}, "Time"),
        ("PUT", step_url, {"invocationIdentifier": iid, "payload": {}}, "must not be null"),
        ("PUT", f"/sessions/{sid}/invocations/", {"description": ""}, "description"),
        ("PUT", "/sessions/", {"sessionMetadata": {"": "v"}}, "Map keys"),
        ("PUT", "/sessions/", {"sessionMetadata": {"k": 1}}, "map of strings"),
        ("PUT", "/sessions/", {"tags": []}, "tags"),
        ("POST", f"{step_url}?maxResults=0", {}, "greater than or equal to 1"),
        ("POST", f"{step_url}?maxResults=ten", {}, "integer"),
        ("POST", f"{step_url}?nextToken=", {}, "length greater than or equal to 1"),
        ("POST", f"{step_url}?nextToken=a%20b", {}, "regular expression"),
    ]
    for method, url, body, message in cases:
        r = http.request(method, url, json=body)
        assert r.status_code == 400, (url, body, r.text)
        assert r.headers["x-amzn-ErrorType"] == VALIDATION
        assert message in r.json()["message"], (body, r.json())


def test_several_failures_are_reported_together(http: Any) -> None:
    r = http.put("/sessions/", json={"encryptionKeyArn": "nope", "tags": {"#": "x"}})
    assert r.status_code == 400
    message = r.json()["message"]
    assert message.startswith("2 validation errors detected: ")
    assert "at 'encryptionKeyArn'" in message and "at 'tags'" in message
