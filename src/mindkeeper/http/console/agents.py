"""Pages of agent sessions (Bedrock): sessions of an account -> invocations -> steps, with
text shown and images rendered. Admins only: Bedrock callers are accounts, not bearer keys.
Sealed sessions are opened with the server's keyring, as the API opens them."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mindkeeper.core.agents import ListCursor, ListRequest
from mindkeeper.core.services import agent_sessions, agent_steps, operations
from mindkeeper.http.console.base import endpoint, link, runtime_of
from mindkeeper.http.console.registry import Section
from mindkeeper.http.console.render import page
from mindkeeper.http.console.security import Viewer

PAGE = 25
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}


def _cursor(request: Request) -> ListCursor | None:
    raw = request.query_params.get("cursor", "")
    try:
        time, key, high = raw.split("|")
        return ListCursor(datetime.fromisoformat(time), int(key), int(high))
    except ValueError:
        return None


def _next(path: str, cursor: ListCursor | None, **params: Any) -> str | None:
    if cursor is None:
        return None
    token = f"{cursor.time.isoformat()}|{cursor.key}|{cursor.high_water}"
    return link(path, cursor=token, **params)


async def sessions_page(request: Request, who: Viewer) -> Response:
    """The sessions of an account, newest first."""
    runtime = runtime_of(request)
    default = request.app.state.settings.bedrock_account_id
    account = request.query_params.get("account") or default
    accounts = sorted({default, *(await operations.accounts(runtime))})
    found = await agent_sessions.list(runtime, account, ListRequest(PAGE, _cursor(request)))
    return page(
        request,
        "bedrock_sessions.html",
        who,
        account=account,
        accounts=accounts,
        sessions=found.items,
        more=_next("/console/bedrock", found.next, account=account),
    )


async def session_page(request: Request, who: Viewer) -> Response:
    """One session: metadata (opened) and its invocations, newest first."""
    runtime = runtime_of(request)
    account, sid = request.path_params["account"], request.path_params["session"]
    session = await agent_sessions.get_or_raise(runtime, account, sid)
    found = await agent_steps.list_invocations(
        runtime, account, sid, ListRequest(PAGE, _cursor(request))
    )
    here = f"/console/bedrock/{account}/{sid}"
    return page(
        request,
        "bedrock_session.html",
        who,
        account=account,
        session=session,
        invocations=found.items,
        more=_next(here, found.next),
    )


def blocks(payload: bytes) -> list[dict[str, Any]]:
    """A step's content blocks for display: text, or an image as a data URL (or its S3 URI)."""
    try:
        document = json.loads(payload)
    except ValueError:
        return [{"kind": "raw", "text": payload.decode("utf-8", "replace")}]
    out: list[dict[str, Any]] = []
    for block in (document or {}).get("contentBlocks") or []:
        if "text" in block:
            out.append({"kind": "text", "text": block["text"]})
            continue
        image = block.get("image") or {}
        fmt, source = image.get("format"), image.get("source") or {}
        if "bytes" in source and fmt in IMAGE_TYPES:
            try:
                data = base64.b64decode(source["bytes"], validate=True)
            except (binascii.Error, ValueError):
                data = b""
            encoded = base64.b64encode(data).decode("ascii")
            out.append({"kind": "image", "src": f"data:{IMAGE_TYPES[fmt]};base64,{encoded}"})
        else:
            uri = (source.get("s3Location") or {}).get("uri", "")
            out.append({"kind": "s3", "text": uri, "format": fmt})
    return out


async def invocation_page(request: Request, who: Viewer) -> Response:
    """One invocation's steps, newest first, with their payloads."""
    runtime = runtime_of(request)
    account = request.path_params["account"]
    sid, inv = request.path_params["session"], request.path_params["invocation"]
    session = await agent_sessions.get_or_raise(runtime, account, sid)
    found = await agent_steps.list_steps(
        runtime, account, sid, inv, ListRequest(10, _cursor(request))
    )
    steps = []
    for summary in found.items:
        step = await agent_steps.get_step(runtime, account, sid, inv, summary.id)
        steps.append({"step": step, "blocks": blocks(step.payload)})
    here = f"/console/bedrock/{account}/{sid}/{inv}"
    return page(
        request,
        "bedrock_invocation.html",
        who,
        account=account,
        session=session,
        invocation=inv,
        steps=steps,
        more=_next(here, found.next),
    )


def routes() -> list[Any]:
    """The routes of this section (admins only)."""
    return [
        Route("/console/bedrock", endpoint(sessions_page, admin=True), methods=["GET"]),
        Route(
            "/console/bedrock/{account}/{session}",
            endpoint(session_page, admin=True),
            methods=["GET"],
        ),
        Route(
            "/console/bedrock/{account}/{session}/{invocation}",
            endpoint(invocation_page, admin=True),
            methods=["GET"],
        ),
    ]


#: The sections this module adds to the console.
SECTIONS = [Section("bedrock", "Bedrock sessions", "/console/bedrock", True, routes)]
