"""Use cases for invocations and invocation steps of an agent session.

Ids are unique per session: the same invocation or step id may exist in other sessions.
A step payload is opaque bytes (validated by the adapter); it is sealed with the session's key,
bound to the account, session and step id. Re-putting a step id with the same invocation, time
and payload is accepted as a retry; anything else under a taken id is a Conflict.
"""

from __future__ import annotations

from uuid import uuid4

from mindkeeper.core.agents import (
    Invocation,
    InvocationStep,
    Listing,
    ListRequest,
    NewStep,
    StepSummary,
    StoredSession,
    StoredStep,
)
from mindkeeper.core.ports import Runtime
from mindkeeper.core.services.agent_sessions import require, require_key, require_writable
from mindkeeper.errors import Conflict, NotFound, QuotaExceeded


def step_context(account_id: str, session_id: str, step_id: str) -> bytes:
    """Associated data binding a sealed payload to its session and step."""
    return f"agent-session/{account_id}/{session_id}/step/{step_id}".encode()


def invocation_not_found(invocation_id: str) -> NotFound:
    """The error for an invocation that is not in the session."""
    return NotFound(f"Invocation {invocation_id} not found in this session")


def step_not_found(step_id: str) -> NotFound:
    """The error for a step that is not in the session's invocation."""
    return NotFound(f"Invocation step {step_id} not found")


def open_payload(runtime: Runtime, session: StoredSession, step: StoredStep) -> bytes:
    """Return the step's payload, opening it when the session has a key."""
    if session.key_ref is None:
        return step.payload_blob
    context = step_context(session.account_id, session.id, step.id)
    return runtime.keyring.open(session.key_ref, step.payload_blob, context)


async def create_invocation(
    runtime: Runtime,
    account_id: str,
    session_id: str,
    invocation_id: str | None,
    description: str | None,
) -> Invocation:
    """Add an invocation to an ACTIVE session; a taken id raises AlreadyExists."""
    now = runtime.now()
    async with runtime.uow() as uow:
        session = await require_writable(runtime, uow, account_id, session_id, now)
        invocation = await uow.agents.add_invocation(
            session, invocation_id or str(uuid4()), description, now
        )
        await uow.commit()
    return invocation


async def list_invocations(
    runtime: Runtime, account_id: str, session_id: str, request: ListRequest
) -> Listing[Invocation]:
    """Return a page of the session's invocations, newest first."""
    async with runtime.uow(write=False) as uow:
        session = await require(uow, account_id, session_id)
        return await uow.agents.list_invocations(session, request)


async def put_step(runtime: Runtime, account_id: str, session_id: str, new: NewStep) -> str:
    """Store a step in an ACTIVE session's invocation and return its id."""
    limit = runtime.agent_policy.max_step_payload_bytes
    if len(new.payload) > limit:
        raise QuotaExceeded(
            f"The invocation step payload is {len(new.payload)} bytes; the limit is {limit}"
        )
    step_id = new.step_id or str(uuid4())
    now = runtime.now()
    async with runtime.uow() as uow:
        session = await require_writable(runtime, uow, account_id, session_id, now)
        blob = new.payload
        if session.key_ref is not None:
            require_key(runtime, session)
            context = step_context(account_id, session.id, step_id)
            blob = runtime.keyring.seal(session.key_ref, new.payload, context)
        added = await uow.agents.add_step(session, new.invocation_id, step_id, new.time, blob, now)
        if not added:
            existing = await uow.agents.get_step(session, step_id)
            if existing is not None and _same_step(runtime, session, existing, new):
                return step_id
            if await uow.agents.get_invocation(session, new.invocation_id) is None:
                raise invocation_not_found(new.invocation_id)
            raise Conflict(f"Invocation step {step_id} already exists with other content")
        await uow.commit()
    return step_id


def _same_step(runtime: Runtime, session: StoredSession, stored: StoredStep, new: NewStep) -> bool:
    return (
        stored.invocation_id == new.invocation_id
        and stored.time.at == new.time.at
        and open_payload(runtime, session, stored) == new.payload
    )


async def get_step(
    runtime: Runtime, account_id: str, session_id: str, invocation_id: str, step_id: str
) -> InvocationStep:
    """Return a step of the session's invocation with its payload, or raise NotFound."""
    async with runtime.uow(write=False) as uow:
        session = await require(uow, account_id, session_id)
        step = await uow.agents.get_step(session, step_id)
    if step is None or step.invocation_id != invocation_id:
        raise step_not_found(step_id)
    return InvocationStep(
        step.id, session.id, step.invocation_id, step.time, open_payload(runtime, session, step)
    )


async def list_steps(
    runtime: Runtime,
    account_id: str,
    session_id: str,
    invocation_id: str | None,
    request: ListRequest,
) -> Listing[StepSummary]:
    """Return a page of steps, newest first; an unknown invocation filter gives an empty page."""
    async with runtime.uow(write=False) as uow:
        session = await require(uow, account_id, session_id)
        invocation = None
        if invocation_id is not None:
            invocation = await uow.agents.get_invocation(session, invocation_id)
            if invocation is None:
                return Listing([], None)
        return await uow.agents.list_steps(session, invocation, request)
