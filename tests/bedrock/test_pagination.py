"""Keyset pagination of ListSessions, ListInvocations and ListInvocationSteps through boto3."""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.bedrock.support import (
    T0,
    make_client,
    new_invocation,
    new_session,
    put_text,
    raises_aws,
)
from tests.conftest import LiveServer

TOKEN = re.compile(r"^\S{1,2048}$")


def _walk(call: Any, key: str, limit: int, **kwargs: Any) -> tuple[list[str], list[str], int]:
    """Page by hand; return the ids seen, the tokens seen and the number of pages."""
    ids: list[str] = []
    tokens: list[str] = []
    pages = 0
    token: str | None = None
    while True:
        extra = {"nextToken": token} if token else {}
        page = call(maxResults=limit, **kwargs, **extra)
        pages += 1
        items = page[key]
        assert len(items) <= limit
        ids += [i.get("invocationStepId") or i.get("invocationId") or i["sessionId"] for i in items]
        if "nextToken" not in page:
            return ids, tokens, pages
        token = page["nextToken"]
        assert TOKEN.match(token), token
        assert len(items) == limit  # a page with a token is full
        tokens.append(token)


def test_list_steps_walks_every_page_exactly_once(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    ids = [put_text(client, sid, iid, str(i), at=T0 + timedelta(seconds=i)) for i in range(23)]
    seen, tokens, pages = _walk(
        client.list_invocation_steps, "invocationStepSummaries", 5, sessionIdentifier=sid
    )
    assert seen == ids[::-1]
    assert pages == 5
    assert len(set(tokens)) == len(tokens) == 4
    exact, _, exact_pages = _walk(
        client.list_invocation_steps, "invocationStepSummaries", 23, sessionIdentifier=sid
    )
    assert exact == ids[::-1] and exact_pages == 1  # no token when the last page is full
    ones, _, one_pages = _walk(
        client.list_invocation_steps,
        "invocationStepSummaries",
        1,
        sessionIdentifier=sid,
        invocationIdentifier=iid,
    )
    assert ones == ids[::-1] and one_pages == 23


def test_default_page_size_is_ten(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    for i in range(11):
        put_text(client, sid, iid, str(i), at=T0 + timedelta(seconds=i))
    first = client.list_invocation_steps(sessionIdentifier=sid)
    assert len(first["invocationStepSummaries"]) == 10
    second = client.list_invocation_steps(sessionIdentifier=sid, nextToken=first["nextToken"])
    assert len(second["invocationStepSummaries"]) == 1
    assert "nextToken" not in second


def test_botocore_paginators_for_steps_and_invocations(client: Any) -> None:
    sid = new_session(client)
    invocations = [new_invocation(client, sid) for _ in range(7)]
    steps = [
        put_text(client, sid, invocations[i % 7], str(i), at=T0 + timedelta(milliseconds=i))
        for i in range(31)
    ]
    paginator = client.get_paginator("list_invocation_steps")
    pages = list(paginator.paginate(sessionIdentifier=sid, PaginationConfig={"PageSize": 4}))
    assert len(pages) == 8
    walked = [s["invocationStepId"] for p in pages for s in p["invocationStepSummaries"]]
    assert walked == steps[::-1]
    full = paginator.paginate(sessionIdentifier=sid).build_full_result()
    assert [s["invocationStepId"] for s in full["invocationStepSummaries"]] == steps[::-1]
    capped = paginator.paginate(
        sessionIdentifier=sid, PaginationConfig={"MaxItems": 6, "PageSize": 4}
    ).build_full_result()
    assert [s["invocationStepId"] for s in capped["invocationStepSummaries"]] == steps[::-1][:6]
    resumed = paginator.paginate(
        sessionIdentifier=sid,
        PaginationConfig={"StartingToken": capped["NextToken"], "PageSize": 4},
    ).build_full_result()
    assert [s["invocationStepId"] for s in resumed["invocationStepSummaries"]] == steps[::-1][6:]
    inv_pages = client.get_paginator("list_invocations").paginate(
        sessionIdentifier=sid, PaginationConfig={"PageSize": 2}
    )
    assert [i["invocationId"] for p in inv_pages for i in p["invocationSummaries"]] == (
        invocations[::-1]
    )


def test_list_sessions_paginator_and_manual_walk(server: LiveServer) -> None:
    client = make_client(server.url)
    ids = [new_session(client) for _ in range(12)]
    pages = list(client.get_paginator("list_sessions").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["sessionSummaries"]) for p in pages] == [5, 5, 2]
    assert [s["sessionId"] for p in pages for s in p["sessionSummaries"]] == ids[::-1]
    seen, tokens, _ = _walk(client.list_sessions, "sessionSummaries", 3)
    assert seen == ids[::-1]
    assert len(set(tokens)) == 3


def test_rows_inserted_during_a_walk_never_appear_or_shift_later_pages(client: Any) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    original = [put_text(client, sid, iid, str(i), at=T0 + timedelta(seconds=i)) for i in range(12)]
    first = client.list_invocation_steps(sessionIdentifier=sid, maxResults=4)
    seen = [s["invocationStepId"] for s in first["invocationStepSummaries"]]
    token = first["nextToken"]
    added: list[str] = []
    while token:
        # Newer, older and same-time steps arrive between pages.
        for offset in (100, -100, 5, 0):
            added.append(put_text(client, sid, iid, "late", at=T0 + timedelta(seconds=offset)))
        page = client.list_invocation_steps(sessionIdentifier=sid, maxResults=4, nextToken=token)
        seen += [s["invocationStepId"] for s in page["invocationStepSummaries"]]
        token = page.get("nextToken")
    assert seen == original[::-1]
    assert not set(added) & set(seen)
    fresh = client.list_invocation_steps(sessionIdentifier=sid, maxResults=1000)
    assert len(fresh["invocationStepSummaries"]) == len(original) + len(added)


def test_invocation_walk_is_stable_under_concurrent_inserts(client: Any) -> None:
    sid = new_session(client)
    original = [new_invocation(client, sid) for _ in range(6)]
    first = client.list_invocations(sessionIdentifier=sid, maxResults=2)
    seen = [i["invocationId"] for i in first["invocationSummaries"]]
    token = first.get("nextToken")
    while token:
        new_invocation(client, sid)
        page = client.list_invocations(sessionIdentifier=sid, maxResults=2, nextToken=token)
        seen += [i["invocationId"] for i in page["invocationSummaries"]]
        token = page.get("nextToken")
    assert seen == original[::-1]


@pytest.mark.parametrize(
    "token",
    ["garbage", "a" * 2048, "eyJ2IjoxfQ", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
)
def test_garbled_tokens_are_validation_errors(client: Any, token: str) -> None:
    sid = new_session(client)
    with raises_aws("ValidationException", 400, match="nextToken"):
        client.list_invocation_steps(sessionIdentifier=sid, nextToken=token)
    with raises_aws("ValidationException", 400, match="nextToken"):
        client.list_sessions(nextToken=token)


def test_tokens_from_another_listing_session_or_filter_are_refused(client: Any) -> None:
    sid, other = new_session(client), new_session(client)
    iid = new_invocation(client, sid)
    new_invocation(client, sid)
    for i in range(3):
        put_text(client, sid, iid, str(i), at=T0 + timedelta(seconds=i))
        put_text(client, other, new_invocation(client, other), str(i))
    step_token = client.list_invocation_steps(sessionIdentifier=sid, maxResults=1)["nextToken"]
    filtered = client.list_invocation_steps(
        sessionIdentifier=sid, invocationIdentifier=iid, maxResults=1
    )["nextToken"]
    inv_token = client.list_invocations(sessionIdentifier=sid, maxResults=1)["nextToken"]
    refusals = [
        lambda: client.list_invocation_steps(sessionIdentifier=other, nextToken=step_token),
        lambda: client.list_invocation_steps(sessionIdentifier=sid, nextToken=filtered),
        lambda: client.list_invocation_steps(
            sessionIdentifier=sid, invocationIdentifier=str(uuid.uuid4()), nextToken=filtered
        ),
        lambda: client.list_invocations(sessionIdentifier=sid, nextToken=step_token),
        lambda: client.list_invocation_steps(sessionIdentifier=sid, nextToken=inv_token),
        lambda: client.list_sessions(nextToken=inv_token),
    ]
    for refuse in refusals:
        with raises_aws("ValidationException", 400, match="nextToken"):
            refuse()
    # ... while each token works where it was issued.
    assert client.list_invocation_steps(sessionIdentifier=sid, nextToken=step_token)
    assert client.list_invocations(sessionIdentifier=sid, nextToken=inv_token)


def test_walk_while_another_client_writes_concurrently(client: Any, shared: LiveServer) -> None:
    sid = new_session(client)
    iid = new_invocation(client, sid)
    original = [put_text(client, sid, iid, str(i), at=T0 + timedelta(seconds=i)) for i in range(30)]
    stop = threading.Event()
    written: list[tuple[float, str]] = []  # (when the write was sent, step id)
    writer = make_client(shared.url)

    def write() -> None:
        offsets = itertools.cycle([-5, 3, 7, 15, 15, 29, 40])
        while not stop.is_set():
            sent = time.monotonic()
            step = put_text(writer, sid, iid, "w", at=T0 + timedelta(seconds=next(offsets)))
            written.append((sent, step))

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        while len(written) < 3:
            time.sleep(0.01)
        page = client.list_invocation_steps(sessionIdentifier=sid, maxResults=3)
        first_page_read = time.monotonic()
        summaries = page["invocationStepSummaries"]
        while "nextToken" in page:
            time.sleep(0.01)
            page = client.list_invocation_steps(
                sessionIdentifier=sid, maxResults=3, nextToken=page["nextToken"]
            )
            summaries += page["invocationStepSummaries"]
    finally:
        stop.set()
        thread.join(timeout=30)
    seen = [s["invocationStepId"] for s in summaries]
    later = {step for sent, step in written if sent > first_page_read}
    assert later  # the writer kept writing during the walk
    assert not later & set(seen)  # nothing written after page 1 appears in the walk
    assert [s for s in seen if s in set(original)] == original[::-1]
    assert len(seen) == len(set(seen))
    times = [s["invocationStepTime"] for s in summaries]
    assert times == sorted(times, reverse=True)
