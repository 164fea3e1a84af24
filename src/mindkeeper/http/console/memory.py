"""Pages of the memory model: workspaces -> peers -> sessions -> messages, and what was
learnt about a peer (collections of facts and conclusions) with a search by meaning.

Each page asks the surface guard of the viewer's key whether the API route that reads the
same resource is allowed (`security.reaches`): v1 keys by ids, v3 keys by names.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mindkeeper.core.entities import Collection, Peer, Session, Workspace
from mindkeeper.core.ports import Runtime
from mindkeeper.core.ports.auth import KeyScope
from mindkeeper.core.services import documents, operations
from mindkeeper.core.services.memory import conclusions
from mindkeeper.http.console.base import before_of, endpoint, hidden, instant, link, runtime_of
from mindkeeper.http.console.registry import Section
from mindkeeper.http.console.render import page
from mindkeeper.http.console.security import V1, Viewer, kind, reaches

PAGE = 50
_W1 = "/v1/apps/{app_id}"
_W3 = "/v3/workspaces/{workspace_id}"


async def _allow(
    request: Request,
    who: Viewer,
    v1: tuple[str, str, dict[str, str]],
    v3: tuple[str, str, dict[str, str]],
) -> None:
    """NotFound unless the key reaches the API route of this page (v1 or v3 by its kind)."""
    surface = kind(who)
    if surface is None:
        return
    method, path, params = v1 if surface == V1 else v3
    if not await reaches(request, who, surface, method, path, params):
        raise hidden()


async def _workspace(request: Request, who: Viewer) -> Workspace:
    ws = await operations.workspace(runtime_of(request), request.path_params["workspace"])
    await _allow(
        request,
        who,
        ("POST", _W1 + "/users/list", {"app_id": ws.id}),
        ("POST", _W3 + "/peers/list", {"workspace_id": ws.name}),
    )
    return ws


async def _peer(request: Request, who: Viewer, ws: Workspace) -> Peer:
    peer = await operations.peer(runtime_of(request), ws.id, request.path_params["peer"])
    await _allow(
        request,
        who,
        ("POST", _W1 + "/users/{user_id}/sessions/list", {"app_id": ws.id, "user_id": peer.id}),
        (
            "POST",
            _W3 + "/peers/{peer_id}/sessions",
            {"workspace_id": ws.name, "peer_id": peer.name},
        ),
    )
    return peer


async def _session(request: Request, who: Viewer, ws: Workspace) -> Session:
    session = await operations.session(runtime_of(request), ws.id, request.path_params["session"])
    v1 = {"app_id": ws.id, "user_id": session.peer_id or "", "session_id": session.id}
    await _allow(
        request,
        who,
        ("POST", _W1 + "/users/{user_id}/sessions/{session_id}/messages/list", v1),
        (
            "POST",
            _W3 + "/sessions/{session_id}/messages/list",
            {"workspace_id": ws.name, "session_id": session.name},
        ),
    )
    return session


async def _collection(request: Request, who: Viewer, ws: Workspace) -> Collection:
    found = await operations.collection(
        runtime_of(request), ws.id, request.path_params["collection"]
    )
    v1 = {"app_id": ws.id, "user_id": found.peer_id, "collection_id": found.id}
    await _allow(
        request,
        who,
        ("POST", _W1 + "/users/{user_id}/collections/{collection_id}/documents/list", v1),
        ("POST", _W3 + "/conclusions/list", {"workspace_id": ws.name}),
    )
    return found


async def workspaces_page(request: Request, who: Viewer) -> Response:
    """Every workspace, newest first (admins)."""
    found = await operations.workspaces(
        runtime_of(request), operations.keyset(before_of(request), PAGE)
    )
    more = link("/console/workspaces", before=found.next_before) if found.next_before else None
    return page(request, "workspaces.html", who, workspaces=found.items, more=more)


async def workspace_page(request: Request, who: Viewer) -> Response:
    """A workspace: its peers and its sessions, newest first."""
    ws = await _workspace(request, who)
    runtime = runtime_of(request)
    peers = await operations.peers(runtime, ws.id, operations.keyset(before_of(request), PAGE))
    sessions = await operations.sessions(
        runtime, ws.id, None, operations.keyset(before_of(request, "sbefore"), PAGE)
    )
    here = f"/console/w/{ws.id}"
    return page(
        request,
        "workspace.html",
        who,
        ws=ws,
        peers=peers.items,
        sessions=sessions.items,
        more_peers=link(here, before=peers.next_before) if peers.next_before else None,
        more_sessions=link(here, sbefore=sessions.next_before) if sessions.next_before else None,
    )


async def peer_page(request: Request, who: Viewer) -> Response:
    """A peer: its sessions (owned or joined) and the collections of what it learnt."""
    ws = await _workspace_for_child(request, who)
    peer = await _peer(request, who, ws)
    runtime = runtime_of(request)
    sessions = await operations.sessions(
        runtime, ws.id, peer.id, operations.keyset(before_of(request), PAGE)
    )
    kept = await operations.collections(runtime, ws.id, peer.id)
    here = f"/console/w/{ws.id}/p/{peer.id}"
    return page(
        request,
        "peer.html",
        who,
        ws=ws,
        peer=peer,
        sessions=sessions.items,
        collections=kept,
        more=link(here, before=sessions.next_before) if sessions.next_before else None,
    )


async def session_page(request: Request, who: Viewer) -> Response:
    """A session's messages, newest first, with metadata; `at` jumps to a date."""
    ws = await _workspace_for_child(request, who)
    session = await _session(request, who, ws)
    raw_at = request.query_params.get("at", "").strip()
    at = instant(raw_at) if raw_at else None
    runtime = runtime_of(request)
    found = await operations.messages(
        runtime, session.id, operations.keyset(before_of(request), PAGE), at
    )
    senders = await operations.peer_names(runtime, ws.id, {m.sender_id for m in found.items})
    here = f"/console/w/{ws.id}/s/{session.id}"
    return page(
        request,
        "session.html",
        who,
        ws=ws,
        session=session,
        messages=found.items,
        senders=senders,
        at=raw_at,
        before_first=found.before_first,
        more=link(here, before=found.next_before) if found.next_before else None,
    )


async def collection_page(request: Request, who: Viewer) -> Response:
    """A collection's documents newest first, or the closest in meaning to `q`."""
    ws = await _workspace_for_child(request, who)
    found = await _collection(request, who, ws)
    runtime = runtime_of(request)
    query = request.query_params.get("q", "").strip()
    hits: list[Any] = []
    more = None
    if query:
        hits = await _search(runtime, ws, found, query)
    else:
        listing = await operations.documents(
            runtime, found.id, operations.keyset(before_of(request), PAGE)
        )
        hits = list(listing.items)
        if listing.next_before:
            more = link(f"/console/w/{ws.id}/c/{found.id}", before=listing.next_before)
    names = await operations.peer_names(
        runtime, ws.id, {found.peer_id, *([found.observed_id] if found.observed_id else [])}
    )
    return page(
        request,
        "collection.html",
        who,
        ws=ws,
        collection=found,
        documents=hits,
        query=query,
        names=names,
        more=more,
    )


async def _search(runtime: Runtime, ws: Workspace, found: Collection, query: str) -> list[Any]:
    """Search by meaning with the surface's own service: conclusions between two peers, or
    the documents of a collection."""
    if found.observed_id is not None:
        names = await operations.peer_names(runtime, ws.id, {found.peer_id, found.observed_id})
        filters = {"observer": names[found.peer_id], "observed": names[found.observed_id]}
        return await conclusions.query(
            runtime.uow(write=False),
            runtime.embedder,
            runtime.tokens.count,
            ws.name,
            query,
            10,
            None,
            filters,
        )
    return await documents.query(
        runtime.uow(write=False), runtime.embedder, ws.id, found.peer_id, found.id, query, None, 10
    )


async def _workspace_for_child(request: Request, who: Viewer) -> Workspace:
    """The workspace of a page below it: loaded, not checked (the child's own check decides,
    so a peer or session key reaches its page without reaching the workspace's)."""
    del who
    return await operations.workspace(runtime_of(request), request.path_params["workspace"])


async def start_page(request: Request, who: Viewer) -> Response:
    """/console: admins see the overview; a scoped key goes to the page of its scope."""
    if who.admin:
        runtime = runtime_of(request)
        gauges = await operations.gauges(runtime)
        return page(request, "home.html", who, gauges=gauges)
    target = await scope_start(runtime_of(request), who.scope)
    if target is None:
        raise hidden()
    return RedirectResponse(target, status_code=303)


async def scope_start(runtime: Runtime, key: KeyScope) -> str | None:
    """The console page of a scoped key's resource: its session, collection, peer or
    workspace (keys by id), or the same found by name (keys by name)."""
    ws, peer, session = key.workspace_id, key.peer_id, key.session_id
    if key.workspace_name:
        named = await operations.by_names(
            runtime, key.workspace_name, key.peer_name, key.session_name
        )
        ws, peer, session = named.workspace_id, named.peer_id, named.session_id
        if ws is None or (key.peer_name and not peer) or (key.session_name and not session):
            return None
    if ws is None:
        return None
    if session:
        return f"/console/w/{ws}/s/{session}"
    if key.collection_id:
        return f"/console/w/{ws}/c/{key.collection_id}"
    if peer:
        return f"/console/w/{ws}/p/{peer}"
    return f"/console/w/{ws}"


def routes() -> list[Any]:
    """The routes of this section."""
    return [
        Route("/console", endpoint(start_page), methods=["GET"]),
        Route("/console/workspaces", endpoint(workspaces_page, admin=True), methods=["GET"]),
        Route("/console/w/{workspace}", endpoint(workspace_page), methods=["GET"]),
        Route("/console/w/{workspace}/p/{peer}", endpoint(peer_page), methods=["GET"]),
        Route("/console/w/{workspace}/s/{session}", endpoint(session_page), methods=["GET"]),
        Route("/console/w/{workspace}/c/{collection}", endpoint(collection_page), methods=["GET"]),
    ]


#: The sections this module adds to the console.
SECTIONS = [Section("memory", "Workspaces", "/console/workspaces", True, routes)]
