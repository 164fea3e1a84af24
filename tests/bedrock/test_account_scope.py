"""Every repository statement on a session's children filters by the account as well.

The services reach a session only through an account-scoped lookup, so the HTTP surface can
never name another account's session. These tests go one level down: the repository is
handed a session whose internal key is real but whose account is not, and every read finds
nothing and every write changes nothing, because each statement also matches `account_id`.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy.exc import NoResultFound

from mindkeeper.core.agents import ListRequest, StepTime
from tests.bedrock.support import (
    ACCOUNT,
    T0,
    new_invocation,
    new_session,
    own_runtime,
    put_text,
)
from tests.conftest import LiveServer

STRANGER = "999999999999"


def _contents(client: Any, sid: str) -> dict[str, Any]:
    """What the owner sees of the session, through the API."""
    steps = client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]
    invocations = client.list_invocations(sessionIdentifier=sid)["invocationSummaries"]
    session = client.get_session(sessionIdentifier=sid)
    arn = session["sessionArn"]
    return {
        "steps": [s["invocationStepId"] for s in steps],
        "invocations": [i["invocationId"] for i in invocations],
        "tags": client.list_tags_for_resource(resourceArn=arn)["tags"],
        "status": session["sessionStatus"],
        "updated": session["lastUpdatedAt"],
        "metadata": session.get("sessionMetadata"),
    }


async def test_a_session_under_another_account_reads_and_changes_nothing(
    client: Any, shared: LiveServer
) -> None:
    sid = await asyncio.to_thread(new_session, client, sessionMetadata={"m": "1"}, tags={"t": "1"})
    iid = await asyncio.to_thread(new_invocation, client, sid)
    step = await asyncio.to_thread(put_text, client, sid, iid, "hello")
    before = await asyncio.to_thread(_contents, client, sid)
    assert before["steps"] == [step] and before["invocations"] == [iid]

    async with own_runtime(shared) as runtime:
        async with runtime.uow(write=False) as uow:
            mine = await uow.agents.get_session(ACCOUNT, sid)
            assert mine is not None
            invocation = await uow.agents.get_invocation(mine, iid)
            assert invocation is not None
            assert await uow.agents.get_tags(mine) == {"t": "1"}
        other = replace(mine, account_id=STRANGER)
        page = ListRequest(10)
        async with runtime.uow() as uow:
            repo = uow.agents
            assert await repo.get_session(STRANGER, sid) is None
            assert await repo.get_invocation(other, iid) is None
            assert (await repo.list_invocations(other, page)).items == []
            assert await repo.get_step(other, step) is None
            assert (await repo.list_steps(other, None, page)).items == []
            assert (await repo.list_steps(other, invocation, page)).items == []
            assert await repo.get_tags(other) == {}
            at = StepTime(T0, 0)
            assert not await repo.add_step(other, iid, "another-step", at, b"{}", T0)
            await repo.put_tags(other, {"t": "overwritten"})
            await repo.remove_tags(other, ["t"])
            await repo.touch_session(other, T0)
            await repo.delete_session(other)
            with pytest.raises(NoResultFound):
                await repo.update_session(other, now=T0, metadata_blob=b'{"m": "2"}')
            await uow.commit()

    assert await asyncio.to_thread(_contents, client, sid) == before
