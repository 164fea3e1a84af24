"""The 14 session-management operations: parse, call one use case, map, return.

Each handler checks its path labels, query and body together (one ValidationException lists
every failure), resolves the session identifier against this server's home, and answers with
the modelled success status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mindkeeper.core.agents import ListCursor, ListRequest
from mindkeeper.core.ports import Runtime
from mindkeeper.core.services import agent_sessions, agent_steps
from mindkeeper.http.bedrock import mapping, pagination, schemas
from mindkeeper.http.bedrock.arn import Home, SessionRef
from mindkeeper.http.bedrock.validation import Problems, json_object

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Context:
    """What every handler needs: the runtime, the caller's home and the default page size."""

    runtime: Runtime
    home: Home
    default_page_size: int

    def session_id(self, ref: SessionRef | None) -> str:
        """The id of a validated session reference (NotFound when it names another home)."""
        assert ref is not None, "validated before resolving"
        return self.home.resolve(ref)

    def list_request(
        self, limit: int | None, token: str | None, listing: str, scope: str
    ) -> ListRequest:
        """The page request for a listing; the token must have been issued for it."""
        cursor: ListCursor | None = None
        if token is not None:
            cursor = pagination.decode(token, listing, scope)
        return ListRequest(limit or self.default_page_size, cursor)


@dataclass(frozen=True, slots=True)
class Request:
    """A routed request: method, decoded path labels, query and raw body."""

    method: str
    labels: tuple[str, ...]
    query: dict[str, list[str]]
    body: bytes

    def json(self) -> JSON:
        """The body as a JSON object; an absent body reads as `{}`."""
        return json_object(self.body)


@dataclass(frozen=True, slots=True)
class Reply:
    """A success: status and JSON body (None sends an empty body)."""

    status: int
    body: JSON | None


Handler = Callable[[Context, Request], Awaitable[Reply]]


def _token(listing: str, scope: str, cursor: ListCursor | None) -> str | None:
    return None if cursor is None else pagination.encode(listing, scope, cursor)


async def create_session(ctx: Context, req: Request) -> Reply:
    """PUT /sessions/ - CreateSession."""
    problems = Problems()
    data = schemas.create_session(problems, req.json(), ctx.home.account_id)
    problems.raise_if_any()
    created = await agent_sessions.create(
        ctx.runtime, ctx.home.account_id, data.metadata, data.key_ref, data.tags
    )
    return Reply(201, mapping.created_session(ctx.home, created))


async def list_sessions(ctx: Context, req: Request) -> Reply:
    """POST /sessions/ - ListSessions (no body)."""
    problems = Problems()
    limit, token = schemas.paging(problems, req.query)
    problems.raise_if_any()
    scope = ctx.home.account_id
    request = ctx.list_request(limit, token, "sessions", scope)
    page = await agent_sessions.list(ctx.runtime, ctx.home.account_id, request)
    items = [mapping.session_summary(ctx.home, s) for s in page.items]
    return Reply(200, mapping.page("sessionSummaries", items, _token("sessions", scope, page.next)))


def _session_only(req: Request) -> SessionRef | None:
    problems = Problems()
    ref = schemas.session_identifier(problems, req.labels[0])
    problems.raise_if_any()
    return ref


async def get_session(ctx: Context, req: Request) -> Reply:
    """GET /sessions/{id}/ - GetSession."""
    session_id = ctx.session_id(_session_only(req))
    found = await agent_sessions.get_or_raise(ctx.runtime, ctx.home.account_id, session_id)
    return Reply(200, mapping.session(ctx.home, found))


async def update_session(ctx: Context, req: Request) -> Reply:
    """PUT /sessions/{id}/ - UpdateSession (metadata replaced; absent keeps it)."""
    problems = Problems()
    ref = schemas.session_identifier(problems, req.labels[0])
    metadata = schemas.metadata(problems, req.json().get("sessionMetadata"))
    problems.raise_if_any()
    updated = await agent_sessions.update(
        ctx.runtime, ctx.home.account_id, ctx.session_id(ref), metadata
    )
    return Reply(200, mapping.updated_session(ctx.home, updated))


async def end_session(ctx: Context, req: Request) -> Reply:
    """PATCH /sessions/{id} - EndSession (idempotent on ENDED)."""
    session_id = ctx.session_id(_session_only(req))
    ended = await agent_sessions.end(ctx.runtime, ctx.home.account_id, session_id)
    return Reply(200, mapping.ended_session(ctx.home, ended))


async def delete_session(ctx: Context, req: Request) -> Reply:
    """DELETE /sessions/{id}/ - DeleteSession (empty body)."""
    session_id = ctx.session_id(_session_only(req))
    await agent_sessions.delete(ctx.runtime, ctx.home.account_id, session_id)
    return Reply(200, None)


async def create_invocation(ctx: Context, req: Request) -> Reply:
    """PUT /sessions/{id}/invocations/ - CreateInvocation."""
    problems = Problems()
    ref = schemas.session_identifier(problems, req.labels[0])
    invocation_id, description = schemas.create_invocation(problems, req.json())
    problems.raise_if_any()
    created = await agent_steps.create_invocation(
        ctx.runtime, ctx.home.account_id, ctx.session_id(ref), invocation_id, description
    )
    return Reply(201, mapping.invocation(created))


async def list_invocations(ctx: Context, req: Request) -> Reply:
    """POST /sessions/{id}/invocations/ - ListInvocations (no body)."""
    problems = Problems()
    ref = schemas.session_identifier(problems, req.labels[0])
    limit, token = schemas.paging(problems, req.query)
    problems.raise_if_any()
    session_id = ctx.session_id(ref)
    request = ctx.list_request(limit, token, "invocations", session_id)
    page = await agent_steps.list_invocations(ctx.runtime, ctx.home.account_id, session_id, request)
    items = [mapping.invocation(i) for i in page.items]
    next_token = _token("invocations", session_id, page.next)
    return Reply(200, mapping.page("invocationSummaries", items, next_token))


async def put_invocation_step(ctx: Context, req: Request) -> Reply:
    """PUT /sessions/{id}/invocationSteps/ - PutInvocationStep."""
    problems = Problems()
    ref = schemas.session_identifier(problems, req.labels[0])
    step = schemas.put_step(problems, req.json())
    problems.raise_if_any()
    assert step is not None
    step_id = await agent_steps.put_step(
        ctx.runtime, ctx.home.account_id, ctx.session_id(ref), step
    )
    return Reply(201, {"invocationStepId": step_id})


async def list_invocation_steps(ctx: Context, req: Request) -> Reply:
    """POST /sessions/{id}/invocationSteps/ - ListInvocationSteps (optional invocation filter)."""
    problems = Problems()
    ref = schemas.session_identifier(problems, req.labels[0])
    limit, token = schemas.paging(problems, req.query)
    invocation_id = schemas.invocation_identifier(problems, req.json(), required=False)
    problems.raise_if_any()
    session_id = ctx.session_id(ref)
    scope = f"{session_id}/{invocation_id or '*'}"
    request = ctx.list_request(limit, token, "steps", scope)
    page = await agent_steps.list_steps(
        ctx.runtime, ctx.home.account_id, session_id, invocation_id, request
    )
    items = [mapping.step_summary(s) for s in page.items]
    next_token = _token("steps", scope, page.next)
    return Reply(200, mapping.page("invocationStepSummaries", items, next_token))


async def get_invocation_step(ctx: Context, req: Request) -> Reply:
    """POST /sessions/{id}/invocationSteps/{stepId} - GetInvocationStep."""
    problems = Problems()
    ref = schemas.session_identifier(problems, req.labels[0])
    step_id = schemas.uuid(problems, "invocationStepId", req.labels[1], required=True)
    invocation_id = schemas.invocation_identifier(problems, req.json(), required=True)
    problems.raise_if_any()
    assert step_id is not None and invocation_id is not None
    found = await agent_steps.get_step(
        ctx.runtime, ctx.home.account_id, ctx.session_id(ref), invocation_id, step_id
    )
    return Reply(200, mapping.step(found))


def _resource_only(req: Request) -> SessionRef | None:
    problems = Problems()
    ref = schemas.resource_arn(problems, req.labels[0])
    problems.raise_if_any()
    return ref


async def tag_resource(ctx: Context, req: Request) -> Reply:
    """POST /tags/{arn} - TagResource."""
    problems = Problems()
    ref = schemas.resource_arn(problems, req.labels[0])
    tags = schemas.tags(problems, req.json().get("tags"), required=True)
    problems.raise_if_any()
    assert tags is not None
    await agent_sessions.tag(ctx.runtime, ctx.home.account_id, ctx.session_id(ref), tags)
    return Reply(200, {})


async def untag_resource(ctx: Context, req: Request) -> Reply:
    """DELETE /tags/{arn}?tagKeys=… - UntagResource."""
    problems = Problems()
    ref = schemas.resource_arn(problems, req.labels[0])
    keys = schemas.tag_keys(problems, req.query)
    problems.raise_if_any()
    assert keys is not None
    await agent_sessions.untag(ctx.runtime, ctx.home.account_id, ctx.session_id(ref), keys)
    return Reply(200, {})


async def list_tags_for_resource(ctx: Context, req: Request) -> Reply:
    """GET /tags/{arn} - ListTagsForResource."""
    session_id = ctx.session_id(_resource_only(req))
    tags = await agent_sessions.list_tags(ctx.runtime, ctx.home.account_id, session_id)
    return Reply(200, {"tags": tags})
