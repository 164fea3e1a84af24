"""Tenant isolation on the Bedrock surface: two accounts, every operation.

Each operation of the dispatcher's routing table (a new one without an entry here fails the
test) is called by account B on account A's session, addressed by bare UUID, by A's ARN and by
an ARN rewritten to B's account: all are ResourceNotFoundException and A's data is unchanged.
Account-level operations (create, list) only ever show the caller's own sessions, and a
signature made with one account's secret never authenticates the other's key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mindkeeper.http.bedrock.dispatch import ROUTES
from tests.conftest import LiveServer
from tests.security.conftest import (
    ACCOUNT_A,
    ACCOUNT_B,
    boto_client,
    create_access_key,
)

STEP_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _step(invocation: str) -> dict[str, Any]:
    return {
        "invocationIdentifier": invocation,
        "invocationStepTime": STEP_TIME,
        "payload": {"contentBlocks": [{"text": "secret of A"}]},
    }


#: Operations on one session: handler name -> (boto3 method, kwargs given (session id or ARN,
#: session ARN, A's invocation, A's step)).
ON_SESSION: dict[str, tuple[str, Callable[[str, str, str, str], dict[str, Any]]]] = {
    "get_session": ("get_session", lambda s, arn, inv, step: {"sessionIdentifier": s}),
    "update_session": (
        "update_session",
        lambda s, arn, inv, step: {"sessionIdentifier": s, "sessionMetadata": {"k": "B"}},
    ),
    "end_session": ("end_session", lambda s, arn, inv, step: {"sessionIdentifier": s}),
    "delete_session": ("delete_session", lambda s, arn, inv, step: {"sessionIdentifier": s}),
    "create_invocation": (
        "create_invocation",
        lambda s, arn, inv, step: {"sessionIdentifier": s},
    ),
    "list_invocations": ("list_invocations", lambda s, arn, inv, step: {"sessionIdentifier": s}),
    "put_invocation_step": (
        "put_invocation_step",
        lambda s, arn, inv, step: {"sessionIdentifier": s, **_step(inv)},
    ),
    "list_invocation_steps": (
        "list_invocation_steps",
        lambda s, arn, inv, step: {"sessionIdentifier": s},
    ),
    "get_invocation_step": (
        "get_invocation_step",
        lambda s, arn, inv, step: {
            "sessionIdentifier": s,
            "invocationIdentifier": inv,
            "invocationStepId": step,
        },
    ),
    "tag_resource": (
        "tag_resource",
        lambda s, arn, inv, step: {"resourceArn": arn, "tags": {"x": "B"}},
    ),
    "untag_resource": (
        "untag_resource",
        lambda s, arn, inv, step: {"resourceArn": arn, "tagKeys": ["team"]},
    ),
    "list_tags_for_resource": (
        "list_tags_for_resource",
        lambda s, arn, inv, step: {"resourceArn": arn},
    ),
}
ACCOUNT_LEVEL = {"create_session", "list_sessions"}


def _handlers() -> set[str]:
    return {handler.__name__ for methods in ROUTES.values() for handler in methods.values()}


def test_every_operation_has_an_isolation_entry() -> None:
    assert _handlers() == set(ON_SESSION) | ACCOUNT_LEVEL


def _state(client: Any, session: str, arn: str) -> dict[str, Any]:
    got = client.get_session(sessionIdentifier=session)
    got.pop("ResponseMetadata")
    steps = client.list_invocation_steps(sessionIdentifier=session)["invocationStepSummaries"]
    invocations = client.list_invocations(sessionIdentifier=session)["invocationSummaries"]
    tags = client.list_tags_for_resource(resourceArn=arn).get("tags", {})
    return {"session": got, "steps": steps, "invocations": invocations, "tags": tags}


def test_two_accounts_never_meet(secure: LiveServer) -> None:
    key_a, key_b = create_access_key(secure, ACCOUNT_A), create_access_key(secure, ACCOUNT_B)
    a = boto_client(secure, key_a.access_key_id, key_a.secret_access_key)
    b = boto_client(secure, key_b.access_key_id, key_b.secret_access_key)

    created = a.create_session(sessionMetadata={"owner": "A"}, tags={"team": "A"})
    session, arn = created["sessionId"], created["sessionArn"]
    assert f":{ACCOUNT_A}:session/" in arn
    invocation = a.create_invocation(sessionIdentifier=session)["invocationId"]
    step = a.put_invocation_step(sessionIdentifier=session, **_step(invocation))["invocationStepId"]
    before = _state(a, session, arn)

    own = b.create_session()
    assert f":{ACCOUNT_B}:session/" in own["sessionArn"]
    listed = {s["sessionId"] for s in b.list_sessions(maxResults=100)["sessionSummaries"]}
    assert listed == {own["sessionId"]}
    assert session in {s["sessionId"] for s in a.list_sessions()["sessionSummaries"]}
    assert own["sessionId"] not in {s["sessionId"] for s in a.list_sessions()["sessionSummaries"]}

    arn_as_b = arn.replace(f":{ACCOUNT_A}:", f":{ACCOUNT_B}:")
    failures = []
    for name, (method, build) in ON_SESSION.items():
        for label, identifier, resource in (
            ("uuid", session, arn),
            ("A's arn", arn, arn),
            ("arn as B", arn_as_b, arn_as_b),
        ):
            try:
                getattr(b, method)(**build(identifier, resource, invocation, step))
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    failures.append(f"{name} by {label}: {exc.response['Error']['Code']}")
            else:
                failures.append(f"{name} by {label}: succeeded")
    assert not failures, failures
    assert _state(a, session, arn) == before

    # B's key with A's secret (and the reverse) never authenticates.
    for key_id, secret in (
        (key_b.access_key_id, key_a.secret_access_key),
        (key_a.access_key_id, key_b.secret_access_key),
    ):
        with pytest.raises(ClientError) as exc:
            boto_client(secure, key_id, secret).get_session(sessionIdentifier=session)
        assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"

    a.end_session(sessionIdentifier=session)
    a.delete_session(sessionIdentifier=session)
    with pytest.raises(ClientError) as exc:
        a.get_session(sessionIdentifier=session)
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
