"""Bearer-key authentication and scope checks of the Honcho surface: one router dependency.

Each route touches one resource, named by its path (`app_id` > `user_id` > `session_id` /
`collection_id`); a few routes name it elsewhere and are listed in `SPECIAL`: the single GETs
take the id from the query (or, when absent, from the key, as upstream), and metamessage
routes may tie a metamessage to a session in the body or already hold one. The key must reach
that resource:

| key        | reaches                                                               |
|------------|-----------------------------------------------------------------------|
| admin      | everything, including app creation, app listing and minting keys      |
| app A      | everything inside A (not A's siblings, not the admin routes)          |
| user U     | U and everything of U (not U's app itself, nor other users of A)      |
| session S  | S: its messages, metamessages tied to S, clone, chat, update, delete  |
| collection | that collection and its documents                                     |

Ids in the query string never widen a key's reach (upstream let `?user_id=` satisfy a
check). The dependency runs after JSON parsing and before field validation, so 401 comes
before 422 as upstream. With auth off every request is admin, as upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Request
from starlette.datastructures import QueryParams

from mindkeeper.config import Settings
from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.services import notes
from mindkeeper.errors import NotFound, Unauthorized
from mindkeeper.http.bearer import BearerGuard, json_object
from mindkeeper.http.ratelimit import TokenBuckets

ADMIN_ONLY = "Resource requires admin privileges"
NOT_PERMITTED = "JWT not permissioned for this resource"

ADMIN, WORKSPACE, PEER, SESSION, COLLECTION = "admin", "app", "user", "session", "collection"

#: How a route names its resource when the path alone does not say it all.
QUERY, BODY_SESSION, NOTE = "query", "body_session", "note"
_USERS = "/v1/apps/{app_id}/users"
_META = _USERS + "/{user_id}/metamessages"
#: (method, path) -> (source, level); the level None means "as the path says".
SPECIAL: dict[tuple[str, str], tuple[str, str | None]] = {
    ("GET", "/v1/apps"): (QUERY, WORKSPACE),
    ("GET", _USERS): (QUERY, PEER),
    ("GET", _USERS + "/{user_id}/sessions"): (QUERY, SESSION),
    ("GET", _USERS + "/{user_id}/collections"): (QUERY, COLLECTION),
    ("POST", _META): (BODY_SESSION, None),
    ("POST", _META + "/list"): (BODY_SESSION, None),
    ("GET", _META + "/{metamessage_id}"): (NOTE, None),
    ("PUT", _META + "/{metamessage_id}"): (NOTE, None),
}
#: The query parameter (and key claim) a single GET reads, by the level it returns.
_QUERY_ID = {
    WORKSPACE: "app_id",
    PEER: "user_id",
    SESSION: "session_id",
    COLLECTION: "collection_id",
}


@dataclass(frozen=True, slots=True)
class Target:
    """The resource a request touches, with its parent chain."""

    level: str
    workspace: str | None = None
    peer: str | None = None
    session: str | None = None
    collection: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """How to find a route's target: the level its path names, and any special source."""

    level: str
    special: str | None = None


def rule_for(method: str, path: str) -> Rule:
    """Derive a route's rule from its method and path template."""
    source, level = SPECIAL.get((method, path), (None, None))
    if level is not None:
        return Rule(level, source)
    params = {part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")}
    for name, named_level in (
        ("collection_id", COLLECTION),
        ("session_id", SESSION),
        ("user_id", PEER),
        ("app_id", WORKSPACE),
    ):
        if name in params:
            return Rule(named_level, source)
    return Rule(ADMIN, source)


def permits(key: KeyScope, target: Target) -> bool:
    """True when the key reaches the target (the admin level only for admin keys)."""
    if key.admin:
        return True
    level = key.level
    if target.level == ADMIN or level == "none" or key.workspace_id != target.workspace:
        return False
    if level == "workspace":
        return True
    if target.level == WORKSPACE or key.peer_id != target.peer:
        return False
    if level == "peer":
        return True
    if target.level == SESSION:
        return key.session_id is not None and key.session_id == target.session
    if target.level == COLLECTION:
        return key.collection_id is not None and key.collection_id == target.collection
    return False


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class HonchoGuard(BearerGuard[Rule]):
    """Authenticates, rate-limits and scope-checks Honcho requests."""

    def __init__(self, runtime: Runtime, settings: Settings, limiter: TokenBuckets) -> None:
        super().__init__(runtime, settings, limiter, rule_for)

    async def check(self, request: Request) -> None:
        """Refuse the request unless its key reaches what it touches."""
        key = await self.authenticate(request)
        if key is None:
            return
        rule = self._rule(request)
        if rule.level == ADMIN:
            if not key.admin:
                raise Unauthorized(ADMIN_ONLY)
            return
        if key.admin:
            return
        for target in await self._targets(request, rule, key):
            if not permits(key, target):
                raise Unauthorized(NOT_PERMITTED)

    async def _targets(self, request: Request, rule: Rule, key: KeyScope) -> list[Target]:
        params = request.path_params
        workspace, peer = params.get("app_id"), params.get("user_id")
        if rule.special == QUERY:
            return [self._from_query(request, rule.level, key, workspace, peer)]
        base = Target(
            rule.level, workspace, peer, params.get("session_id"), params.get("collection_id")
        )
        if rule.special is None:
            return [base]
        targets: list[Target] = []
        if rule.special == NOTE:
            targets.append(await self._note_target(base, params["metamessage_id"], key))
        body_session = None
        if request.method != "GET":
            body_session = _text((await json_object(request)).get("session_id"))
        if body_session is not None:
            targets.append(Target(SESSION, workspace, peer, body_session))
        elif rule.special == BODY_SESSION:
            targets.append(base)
        return targets

    def _from_query(
        self,
        request: Request,
        level: str,
        key: KeyScope,
        workspace: str | None,
        peer: str | None,
    ) -> Target:
        """The single GETs: the id from the query, else from the key (written into the query)."""
        name = _QUERY_ID[level]
        pairs = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), True)
        # The handler reads the last value of a repeated parameter: check that one.
        values = [v for k, v in pairs if k == name]
        given = values[-1] if values and values[-1] else None
        if given is None:
            claim = {
                WORKSPACE: key.workspace_id,
                PEER: key.peer_id,
                SESSION: key.session_id,
                COLLECTION: key.collection_id,
            }[level]
            if claim is not None:
                pairs = [(k, v) for k, v in pairs if k != name] + [(name, claim)]
                query = urlencode(pairs).encode("latin-1")
                request.scope["query_string"] = query
                # FastAPI parsed the query (and Starlette cached it) before this dependency
                # ran; the handler's parameters are read from that cache afterwards.
                request._query_params = QueryParams(query)
                given = claim
        if level == WORKSPACE:
            return Target(WORKSPACE, given)
        if level == PEER:
            return Target(PEER, workspace, given)
        if level == SESSION:
            return Target(SESSION, workspace, peer, session=given)
        return Target(COLLECTION, workspace, peer, collection=given)

    async def _note_target(self, base: Target, note_id: str, key: KeyScope) -> Target:
        """A metamessage is its user's resource, or its session's when tied to one.

        Only a session or collection key of the path's own user needs the lookup; for any
        other key the user-level target decides.
        """
        if key.level != "leaf" or (key.workspace_id, key.peer_id) != (base.workspace, base.peer):
            return base
        try:
            note = await notes.get_or_raise(
                self._read(), cast(str, base.workspace), cast(str, base.peer), note_id
            )
        except NotFound:
            return base
        if note.session_id is None:
            return base
        return Target(SESSION, base.workspace, base.peer, note.session_id)


async def authorize(request: Request) -> None:
    """The dependency every Honcho router declares."""
    guard = cast(HonchoGuard, request.app.state.honcho_guard)
    await guard.check(request)


AUTH = Depends(authorize)
