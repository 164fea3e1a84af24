"""Admin pages: the queue (backlog, oldest age, failures, dead letters with retry and
discard), keys and SigV4 credentials (mint, revoke), and the resolved configuration with
secrets masked (what `mindkeeper doctor` prints)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mindkeeper import diagnostics
from mindkeeper.core.ports.jobs import JobStatus
from mindkeeper.core.services import credentials, keys, operations, queue
from mindkeeper.errors import Unavailable
from mindkeeper.http.console.base import back, before_of, endpoint, instant, link, runtime_of
from mindkeeper.http.console.registry import Section
from mindkeeper.http.console.render import page
from mindkeeper.http.console.security import Viewer

PAGE = 50


async def queue_page(request: Request, who: Viewer) -> Response:
    """Gauges of the queue and its dead letters, newest first."""
    runtime = runtime_of(request)
    gauges = await operations.gauges(runtime)
    stall = await queue.stall(runtime)
    dead = await operations.jobs(
        runtime, JobStatus.DEAD, operations.keyset(before_of(request), PAGE)
    )
    oldest = gauges.queue.oldest_pending_at
    age = None if oldest is None else max(0.0, (gauges.now - oldest).total_seconds())
    return page(
        request,
        "queue.html",
        who,
        gauges=gauges,
        oldest_age=age,
        stall=stall,
        dead=dead.items,
        more=link("/console/queue", before=dead.next_before) if dead.next_before else None,
    )


async def retry_one(request: Request, who: Viewer) -> Response:
    """POST: give one dead letter fresh attempts."""
    del who
    await operations.retry_dead_letter(runtime_of(request), int(request.path_params["key"]))
    return back(await request.form(), "/console/queue")


async def discard_one(request: Request, who: Viewer) -> Response:
    """POST: delete one dead letter."""
    del who
    await operations.discard_dead_letter(runtime_of(request), int(request.path_params["key"]))
    return back(await request.form(), "/console/queue")


async def retry_all(request: Request, who: Viewer) -> Response:
    """POST: give every dead letter fresh attempts."""
    del who
    await queue.retry_dead(runtime_of(request))
    return back(await request.form(), "/console/queue")


async def _keys_page(request: Request, who: Viewer, **extra: Any) -> Response:
    runtime = runtime_of(request)
    stored = await credentials.list(runtime.uow(write=False))
    return page(
        request,
        "keys.html",
        who,
        access_keys=stored,
        can_mint=runtime.security.codec is not None,
        can_seal=runtime.security.box is not None,
        default_account=request.app.state.settings.bedrock_account_id,
        **extra,
    )


async def keys_page(request: Request, who: Viewer) -> Response:
    """Mint and revoke bearer keys; create, list and revoke SigV4 access keys."""
    return await _keys_page(request, who)


def _text(form: Any, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


def _expiry(form: Any) -> datetime | None:
    raw = _text(form, "expires_at")
    return None if raw is None else instant(raw)


async def mint_key(request: Request, who: Viewer) -> Response:
    """POST: mint an admin key, a key by ids (Honcho v1) or by names (Honcho v3)."""
    runtime = runtime_of(request)
    codec = runtime.security.codec
    if codec is None:
        raise Unavailable(
            "No JWT secret is configured (MINDKEEPER_AUTH_JWT_SECRET): keys cannot be minted"
        )
    form = await request.form()
    kind, now, expires = _text(form, "kind"), runtime.now(), _expiry(form)
    if kind == "admin":
        minted = keys.mint_admin(codec, now, expires)
    elif kind == "names":
        minted = keys.mint_by_name(
            codec,
            now,
            workspace=_text(form, "workspace"),
            peer=_text(form, "peer"),
            session=_text(form, "session"),
            expires_at=expires,
        )
    else:
        minted = await keys.mint(
            runtime.uow(write=False),
            codec,
            now,
            workspace_id=_text(form, "workspace_id"),
            peer_id=_text(form, "peer_id"),
            session_id=_text(form, "session_id"),
            collection_id=_text(form, "collection_id"),
            expires_at=expires,
        )
    return await _keys_page(request, who, minted=minted)


async def revoke_key(request: Request, who: Viewer) -> Response:
    """POST: revoke a key given as the token or its key id."""
    runtime = runtime_of(request)
    form = await request.form()
    given = _text(form, "key") or ""
    key_id = await keys.revoke(runtime.uow(), runtime.security.codec, given, runtime.now())  # type: ignore[arg-type]
    return await _keys_page(request, who, revoked=key_id)


async def create_credential(request: Request, who: Viewer) -> Response:
    """POST: create a SigV4 access key for an account (the secret is shown once)."""
    runtime = runtime_of(request)
    form = await request.form()
    account = _text(form, "account_id") or request.app.state.settings.bedrock_account_id
    created = await credentials.create(runtime.uow(), runtime.security.box, account)
    return await _keys_page(request, who, created=created)


async def revoke_credential(request: Request, who: Viewer) -> Response:
    """POST: revoke an access key."""
    runtime = runtime_of(request)
    form = await request.form()
    await credentials.revoke(runtime.uow(), _text(form, "access_key_id") or "")
    return back(form, "/console/keys")


async def config_page(request: Request, who: Viewer) -> Response:
    """The resolved configuration with secrets masked, the database and what is missing."""
    runtime = runtime_of(request)
    ready = await runtime.readiness()
    database: dict[str, Any] = {
        "reachable": ready.get("database") == "ok",
        "schema_revision": ready.get("schema_revision"),
        "schema_head": ready.get("schema_head"),
    }
    if not database["reachable"]:
        database["error"] = ready.get("error")
    problems = diagnostics.database_problems(database)
    report = diagnostics.report(request.app.state.settings, database, problems)
    return page(request, "config.html", who, report=report, ready=ready)


def _admin(handler: Any) -> Any:
    return endpoint(handler, admin=True)


def queue_routes() -> list[Any]:
    """Routes of the queue section."""
    return [
        Route("/console/queue", _admin(queue_page), methods=["GET"]),
        Route("/console/queue/retry", _admin(retry_all), methods=["POST"]),
        Route("/console/queue/{key:int}/retry", _admin(retry_one), methods=["POST"]),
        Route("/console/queue/{key:int}/discard", _admin(discard_one), methods=["POST"]),
    ]


def keys_routes() -> list[Any]:
    """Routes of the keys section."""
    return [
        Route("/console/keys", _admin(keys_page), methods=["GET"]),
        Route("/console/keys/mint", _admin(mint_key), methods=["POST"]),
        Route("/console/keys/revoke", _admin(revoke_key), methods=["POST"]),
        Route("/console/credentials/create", _admin(create_credential), methods=["POST"]),
        Route("/console/credentials/revoke", _admin(revoke_credential), methods=["POST"]),
    ]


def config_routes() -> list[Any]:
    """Routes of the configuration section."""
    return [Route("/console/config", _admin(config_page), methods=["GET"])]


#: The sections this module adds to the console.
SECTIONS = [
    Section("queue", "Queue", "/console/queue", True, queue_routes),
    Section("keys", "Keys", "/console/keys", True, keys_routes),
    Section("config", "Configuration", "/console/config", True, config_routes),
]
