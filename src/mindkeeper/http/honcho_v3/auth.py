"""Bearer keys and scope checks of the v3 surface: one router dependency.

A v3 key names a workspace (`w`) and, below it, a peer (`p`) and/or a session (`s`), by name;
`ad` makes it an admin key. Each route declares what it checks in `ROUTES` (method and path
template -> `Rule`); the decision, as upstream's (reference §5.3), is:

1. no bearer token -> `No access token provided`; a bad, expired or revoked one -> 401;
   a `p` or `s` without `w` -> `Invalid JWT scope: peer/session token missing workspace`;
2. an admin key reaches everything; an admin-only route refuses every other key;
3. the get-or-create routes of workspaces, peers and sessions check the body (`BODY`);
4. otherwise the key's workspace must be the path's;
5. a session key (`s`, with or without `p`) reaches only routes that name its session;
6. a peer key (`p`) reaches routes that name its peer, and the read-only routes of sessions it
   is an active member of ("member read", checked against the database);
7. a workspace key reaches everything in its workspace except the admin routes.

Where upstream leaks (reference §12 item 13) the body checks are narrower: a session key
gets or creates only peers that are active members of its session (reading them, not
changing them) or that do not exist yet; a peer key gets only sessions it is an active member
of (reading them, not changing them) and creates only sessions whose members are at most
itself. A key without `w` (a v1 key, say) reaches nothing here, and an `ad` other than
`true` is not admin. A route missing from `ROUTES` is admin-only.

The dependency runs after JSON parsing and before field validation, so 401 comes before 422 as
upstream. With authentication off every request is admin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from fastapi import Depends, Request

from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.services import access
from mindkeeper.errors import Unauthorized
from mindkeeper.http.bearer import BearerGuard, json_object
from mindkeeper.http.ratelimit import TokenBuckets

ADMIN_ONLY = "Resource requires admin privileges"
NOT_PERMITTED = "JWT not permissioned for this resource"
UNAUTHORIZED = "Unauthorized access to resource"
MISSING_WORKSPACE = "Invalid JWT scope: peer/session token missing workspace"

#: Body checks (§5.5): the get-or-create routes, peer chat, a peer's own session config.
NEW_WORKSPACE, NEW_PEER, NEW_SESSION, CHAT, OWN_CONFIG = (
    "new_workspace",
    "new_peer",
    "new_session",
    "chat",
    "own_config",
)


@dataclass(frozen=True, slots=True)
class Rule:
    """What a route checks: the path parameters it is scoped by, and any further check."""

    admin: bool = False
    workspace: bool = False
    peer: bool = False
    session: bool = False
    member_read: bool = False
    extra: str | None = None


ADMIN = Rule(admin=True)
WORKSPACE = Rule(workspace=True)
PEER = Rule(workspace=True, peer=True)
SESSION_WRITE = Rule(workspace=True, session=True)
SESSION_READ = Rule(workspace=True, session=True, member_read=True)

#: Path parameters the checks read; other parameters are ignored (and their names too).
_SCOPED = ("workspace_id", "peer_id", "session_id")
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


def shape(path: str) -> str:
    """A path template with every parameter the checks ignore written `{*}`."""
    return _PARAM.sub(lambda m: m.group(0) if m.group(1) in _SCOPED else "{*}", path)


_W = "/v3/workspaces/{workspace_id}"
_P = _W + "/peers/{peer_id}"
_S = _W + "/sessions/{session_id}"
_M = _S + "/messages"
_SCOPES = _W + "/scopes"

#: (method, path template) -> rule. Templates name the scoped parameters `workspace_id`,
#: `peer_id` and `session_id`; any other parameter may have any name.
_TABLE: dict[tuple[str, str], Rule] = {
    # workspaces
    ("POST", "/v3/workspaces"): Rule(extra=NEW_WORKSPACE),
    ("POST", "/v3/workspaces/list"): ADMIN,
    ("PUT", _W): WORKSPACE,
    ("DELETE", _W): WORKSPACE,
    ("POST", _W + "/search"): WORKSPACE,
    ("GET", _W + "/queue/status"): WORKSPACE,
    ("POST", _W + "/schedule_dream"): WORKSPACE,
    ("POST", _W + "/chat"): WORKSPACE,
    # peers
    ("POST", _W + "/peers/list"): WORKSPACE,
    ("POST", _W + "/peers"): Rule(extra=NEW_PEER),
    ("PUT", _P): PEER,
    ("POST", _P + "/sessions"): PEER,
    ("POST", _P + "/chat"): Rule(workspace=True, peer=True, extra=CHAT),
    ("POST", _P + "/representation"): PEER,
    ("GET", _P + "/card"): PEER,
    ("PUT", _P + "/card"): PEER,
    ("GET", _P + "/context"): PEER,
    ("POST", _P + "/search"): PEER,
    # sessions
    ("POST", _W + "/sessions/list"): WORKSPACE,
    ("POST", _W + "/sessions"): Rule(extra=NEW_SESSION),
    ("PUT", _S): SESSION_WRITE,
    ("DELETE", _S): SESSION_WRITE,
    ("POST", _S + "/clone"): SESSION_WRITE,
    ("POST", _S + "/peers"): SESSION_WRITE,
    ("PUT", _S + "/peers"): SESSION_WRITE,
    ("DELETE", _S + "/peers"): SESSION_WRITE,
    ("GET", _S + "/peers"): SESSION_READ,
    ("GET", _S + "/peers/{peer_id}/config"): Rule(
        workspace=True, session=True, member_read=True, extra=OWN_CONFIG
    ),
    ("PUT", _S + "/peers/{peer_id}/config"): SESSION_WRITE,
    ("GET", _S + "/context"): SESSION_READ,
    ("GET", _S + "/summaries"): SESSION_READ,
    ("POST", _S + "/search"): SESSION_READ,
    # messages
    ("POST", _M): SESSION_WRITE,
    ("POST", _M + "/"): SESSION_WRITE,
    ("POST", _M + "/upload"): SESSION_WRITE,
    ("POST", _M + "/list"): SESSION_READ,
    ("GET", _M + "/{message_id}"): SESSION_READ,
    ("PUT", _M + "/{message_id}"): SESSION_WRITE,
    # conclusions
    ("POST", _W + "/conclusions"): WORKSPACE,
    ("POST", _W + "/conclusions/list"): WORKSPACE,
    ("POST", _W + "/conclusions/query"): WORKSPACE,
    ("GET", _W + "/conclusions/{conclusion_id}"): WORKSPACE,
    ("DELETE", _W + "/conclusions/{conclusion_id}"): WORKSPACE,
    # webhooks
    ("POST", _W + "/webhooks"): WORKSPACE,
    ("GET", _W + "/webhooks"): WORKSPACE,
    ("GET", _W + "/webhooks/test"): WORKSPACE,
    ("DELETE", _W + "/webhooks/{endpoint_id}"): WORKSPACE,
    # scopes (workspace keys only, as upstream)
    ("POST", _SCOPES): WORKSPACE,
    ("POST", _SCOPES + "/list"): WORKSPACE,
    ("GET", _SCOPES + "/{scope_id}"): WORKSPACE,
    ("GET", _SCOPES + "/{scope_id}/status"): WORKSPACE,
    ("POST", _SCOPES + "/{scope_id}/sessions"): WORKSPACE,
    ("POST", _SCOPES + "/{scope_id}/sessions/list"): WORKSPACE,
    ("DELETE", _SCOPES + "/{scope_id}/sessions/{session_id}"): WORKSPACE,
    # keys
    ("POST", "/v3/keys"): ADMIN,
}

ROUTES: dict[tuple[str, str], Rule] = {(m, shape(p)): rule for (m, p), rule in _TABLE.items()}


def rule_for(method: str, path: str) -> Rule:
    """The rule of a route; admin-only when the route is not in the table."""
    return ROUTES.get((method, shape(path)), ADMIN)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _given(body: dict[str, Any], *names: str) -> bool:
    """True when the body sets any of the fields to something other than null."""
    return any(body.get(name) is not None for name in names)


def body_name(body: dict[str, Any]) -> str | None:
    """The name a get-or-create body asks for (`id`, or its alias `name` when `id` is absent),
    as the body model reads it; None when it is not a string (validation then refuses it)."""
    return _text(body["id"] if "id" in body else body.get("name"))


def allowlist(filters: Any) -> list[str]:
    """The session names of chat's `filters.session_id` in any of its forms."""
    if not isinstance(filters, dict):
        return []
    value = filters.get("session_id")
    if isinstance(value, dict):
        value = value.get("in")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class V3Guard(BearerGuard[Rule]):
    """Authenticates, rate-limits and scope-checks /v3 requests."""

    def __init__(self, runtime: Runtime, settings: Settings, limiter: TokenBuckets) -> None:
        super().__init__(runtime, settings, limiter, rule_for)

    async def check(self, request: Request) -> None:
        """Refuse the request unless its key reaches what it touches."""
        key = await self.authenticate(request)
        if key is None:
            return
        if (key.peer_name or key.session_name) and not key.workspace_name:
            raise Unauthorized(MISSING_WORKSPACE)
        if key.admin:
            return
        rule = self._rule(request)
        if rule.admin:
            raise Unauthorized(ADMIN_ONLY)
        params = request.path_params
        if rule.extra == NEW_WORKSPACE:
            await self._new_workspace(request, key)
        elif rule.extra == NEW_PEER:
            await self._new_peer(request, key, params)
        elif rule.extra == NEW_SESSION:
            await self._new_session(request, key, params)
        else:
            await self._scoped(request, key, rule, params)

    async def _scoped(
        self, request: Request, key: KeyScope, rule: Rule, params: dict[str, Any]
    ) -> None:
        """Steps 4-7 of the decision for a route scoped by its path."""
        workspace = params.get("workspace_id")
        if not rule.workspace or key.workspace_name is None or key.workspace_name != workspace:
            raise Unauthorized(NOT_PERMITTED)
        if (key.peer_name or key.session_name) and await _names_scope(request):
            # Recall through a scope needs a workspace key (a narrower one could otherwise
            # learn which scope names exist from the 404).
            raise Unauthorized(NOT_PERMITTED)
        if key.session_name is not None:
            if not (rule.session and params.get("session_id") == key.session_name):
                raise Unauthorized(NOT_PERMITTED)
            return
        peer = key.peer_name
        if peer is None:
            return
        if rule.peer and params.get("peer_id") == peer:
            pass
        elif not (
            rule.member_read
            and rule.session
            and await access.is_active_member(
                self._read(), key.workspace_name, str(params.get("session_id")), peer
            )
        ):
            raise Unauthorized(NOT_PERMITTED)
        if rule.extra == OWN_CONFIG and params.get("peer_id") != peer:
            raise Unauthorized(NOT_PERMITTED)
        if rule.extra == CHAT:
            await self._chat(request, key.workspace_name, peer)

    async def _chat(self, request: Request, workspace: str, peer: str) -> None:
        """A peer key chats only within sessions it is an active member of."""
        body = await json_object(request)
        wanted = allowlist(body.get("filters"))
        session = _text(body.get("session_id"))
        if session:
            wanted.append(session)
        if not wanted:
            return
        members = await access.active_sessions(self._read(), workspace, peer, wanted)
        if any(name not in members for name in wanted):
            raise Unauthorized(NOT_PERMITTED)

    async def _new_workspace(self, request: Request, key: KeyScope) -> None:
        """POST /v3/workspaces: the key's workspace only."""
        name = body_name(await json_object(request))
        if key.workspace_name is None or (name is not None and name != key.workspace_name):
            raise Unauthorized(UNAUTHORIZED)

    async def _new_peer(self, request: Request, key: KeyScope, params: dict[str, Any]) -> None:
        """POST .../peers: a peer key gets or creates itself; a session key reads the members
        of its session and creates peers that do not exist yet."""
        workspace = key.workspace_name
        if workspace is None or workspace != params.get("workspace_id"):
            raise Unauthorized(UNAUTHORIZED)
        body = await json_object(request)
        name = body_name(body)
        if name is None:
            return
        if key.peer_name is not None and name != key.peer_name:
            raise Unauthorized(UNAUTHORIZED)
        session = key.session_name
        if session is None:
            return
        if await access.active_sessions(self._read(), workspace, name, [session]):
            if _given(body, "metadata", "configuration"):
                raise Unauthorized(UNAUTHORIZED)
        elif await access.peer_exists(self._read(), workspace, name):
            raise Unauthorized(UNAUTHORIZED)

    async def _new_session(self, request: Request, key: KeyScope, params: dict[str, Any]) -> None:
        """POST .../sessions: a session key gets or creates its session; a peer key reads the
        sessions it is an active member of and creates sessions with no member but itself."""
        workspace = key.workspace_name
        if workspace is None or workspace != params.get("workspace_id"):
            raise Unauthorized(UNAUTHORIZED)
        body = await json_object(request)
        name = body_name(body)
        if name is None:
            return
        if key.session_name is None and key.peer_name is None:
            return
        if body.get("scopes"):
            raise Unauthorized(UNAUTHORIZED)
        if key.session_name is not None:
            if name != key.session_name:
                raise Unauthorized(UNAUTHORIZED)
            return
        peer = cast(str, key.peer_name)
        members = body.get("peers")
        if isinstance(members, dict) and any(m != peer for m in members):
            raise Unauthorized(UNAUTHORIZED)
        if not await access.session_exists(self._read(), workspace, name):
            return
        if _given(body, "metadata", "configuration", "peers") or not (
            await access.is_active_member(self._read(), workspace, name, peer)
        ):
            raise Unauthorized(UNAUTHORIZED)


async def _names_scope(request: Request) -> bool:
    """Whether the request asks for recall through a scope (`scope` in the query or body)."""
    if "scope" in request.query_params:
        return True
    if request.method in ("GET", "DELETE", "HEAD"):
        return False
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/", "application/x-www-form-urlencoded")):
        return False  # forms (uploads) are read by their route and carry no scope
    return (await json_object(request)).get("scope") is not None


async def authorize(request: Request) -> None:
    """The dependency every /v3 router declares."""
    guard = cast(V3Guard, request.app.state.honcho_v3_guard)
    await guard.check(request)


AUTH = Depends(authorize)
