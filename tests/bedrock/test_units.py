"""In-process checks of the adapter's pure parts: error mapping, tokens, image headers, times."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from mindkeeper import errors
from mindkeeper.core.agents import ListCursor, StepTime
from mindkeeper.core.ports.agents import SealBroken
from mindkeeper.http.bedrock import errors as wire_errors
from mindkeeper.http.bedrock import images, mapping, pagination
from mindkeeper.http.bedrock.dispatch import owns, route, segments
from mindkeeper.http.bedrock.validation import Problems, timestamp
from tests.bedrock.support import gif, jpeg, png, webp


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (errors.Invalid("x"), 400, "ValidationException"),
        (errors.NotFound("x"), 404, "ResourceNotFoundException"),
        (errors.AlreadyExists("x"), 409, "ConflictException"),
        (errors.Conflict("x"), 409, "ConflictException"),
        (errors.QuotaExceeded("x"), 400, "ServiceQuotaExceededException"),
        (errors.Forbidden("x"), 403, "AccessDeniedException"),
        (errors.Unauthorized("x"), 403, "UnrecognizedClientException"),
        (errors.Unavailable("x"), 429, "ThrottlingException"),
        (RuntimeError("boom"), 500, "InternalServerException"),
        (SealBroken("tampered"), 500, "InternalServerException"),
    ],
)
def test_error_mapping(error: Exception, status: int, code: str) -> None:
    got_status, got_code, body = wire_errors.render(error)
    assert (got_status, got_code) == (status, code)
    data = orjson.loads(body)
    assert data["__type"] == code and data["message"]
    if code == "InternalServerException":
        assert data["reason"] and "boom" not in data["message"]


def test_too_large_responder_shape() -> None:
    status, headers, body = wire_errors.too_large({}, 2048)
    assert status == 400
    assert (b"x-amzn-errortype", b"ValidationException") in headers
    assert any(name == b"x-amzn-requestid" for name, _ in headers)
    assert "2048" in orjson.loads(body)["message"]


def test_tokens_round_trip_and_bind_to_listing_and_scope() -> None:
    cursor = ListCursor(datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), 42, 99)
    token = pagination.encode("steps", "s/*", cursor)
    assert pagination.decode(token, "steps", "s/*") == cursor
    assert "=" not in token and " " not in token
    assert pagination.encode("steps", "s/*", ListCursor(cursor.time, 41, 99)) != token
    for listing, scope in (("sessions", "s/*"), ("steps", "s/i")):
        with pytest.raises(errors.Invalid):
            pagination.decode(token, listing, scope)
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(errors.Invalid):
        pagination.decode(flipped, "steps", "s/*")


@pytest.mark.parametrize(
    ("fmt", "data", "size"),
    [
        ("png", png(640, 480), (640, 480)),
        ("jpeg", jpeg(1920, 1080), (1920, 1080)),
        ("gif", gif(320, 200), (320, 200)),
        ("webp", webp(9000, 3), (9000, 3)),
        ("png", jpeg(5, 5), None),
        ("jpeg", b"\xff\xd8\xff\xe0\x00", None),
        ("webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 20, None),
        ("gif", b"GIF87", None),
    ],
)
def test_image_dimensions_from_headers(fmt: str, data: bytes, size: tuple[int, int] | None) -> None:
    assert images.dimensions(fmt, data) == size


def test_webp_lossy_and_lossless_headers() -> None:
    vp8 = b"\x00\x00\x00" + b"\x9d\x01\x2a" + (300).to_bytes(2, "little")  # frame tag, start
    vp8 += (200).to_bytes(2, "little")
    lossy = b"RIFF" + b"\x00" * 4 + b"WEBPVP8 " + len(vp8).to_bytes(4, "little") + vp8
    assert images.dimensions("webp", lossy) == (300, 200)
    bits = (640 - 1) | ((480 - 1) << 14)
    vp8l = b"\x2f" + bits.to_bytes(4, "little") + b"\x00" * 5
    lossless = b"RIFF" + b"\x00" * 4 + b"WEBPVP8L" + len(vp8l).to_bytes(4, "little") + vp8l
    assert images.dimensions("webp", lossless) == (640, 480)


@pytest.mark.parametrize(
    ("text", "at", "digits"),
    [
        ("2025-03-01T12:00:00Z", datetime(2025, 3, 1, 12, tzinfo=UTC), 0),
        ("2025-03-01t12:00:00.5z", datetime(2025, 3, 1, 12, 0, 0, 500000, tzinfo=UTC), 1),
        ("2025-03-01T12:00:00.123456789Z", datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), 6),
        ("2025-03-01T13:30:00+0130", datetime(2025, 3, 1, 12, tzinfo=UTC), 0),
        ("2025-03-01T00:00:00.001-05:00", datetime(2025, 3, 1, 5, 0, 0, 1000, tzinfo=UTC), 3),
    ],
)
def test_timestamps_parse_to_utc_with_precision(text: str, at: datetime, digits: int) -> None:
    problems = Problems()
    assert timestamp(problems, "t", text) == StepTime(at, digits)
    assert not problems
    assert mapping.step_time(StepTime(at, digits)).endswith("Z")


@pytest.mark.parametrize(
    "text", ["2025-02-30T00:00:00Z", "2025-03-01 12:00:00Z", "2025-03-01T12:00:00", 1740830400]
)
def test_bad_timestamps_are_reported(text: object) -> None:
    problems = Problems()
    assert timestamp(problems, "invocationStepTime", text) is None
    with pytest.raises(errors.Invalid, match="at 'invocationStepTime'"):
        problems.raise_if_any()


def test_routing_on_raw_segments() -> None:
    arn = "arn:aws:bedrock:us-east-1:000000000000:session/0b1c"
    encoded = arn.replace(":", "%3A").replace("/", "%2F")
    assert segments(f"/sessions/{encoded}/") == ["sessions", arn, ""]
    assert segments(f"/sessions/{arn}/invocations") == ["sessions", arn, "invocations"]
    handler, labels = route("PATCH", segments(f"/sessions/{encoded}"))
    assert handler.__name__ == "end_session" and labels == (arn,)
    assert route("GET", segments("/sessions//"))[1] == ("",)
    assert owns("/sessions") and owns("/tags/x") and not owns("/sessionsx") and not owns("/")
    with pytest.raises(wire_errors.WireError):
        route("GET", segments("/sessions/"))


def test_requests_act_for_the_account_in_the_scope() -> None:
    from mindkeeper.config import Settings
    from mindkeeper.http.bedrock.dispatch import BedrockSurface
    from mindkeeper.http.bedrock.sigv4 import ACCOUNT_ID

    settings = Settings(_env_file=None, bedrock_account_id="111111111111")  # type: ignore[call-arg]
    surface = BedrockSurface(None, None, settings)  # type: ignore[arg-type]
    assert surface.context_for({}).home.account_id == "111111111111"
    caller = surface.context_for({ACCOUNT_ID: "222222222222"})
    assert caller.home.account_id == "222222222222"
    assert caller.home.session_arn("s") == "arn:aws:bedrock:us-east-1:222222222222:session/s"
