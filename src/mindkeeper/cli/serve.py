"""`mindkeeper serve`: migrate, then run the HTTP server (and, by default, the worker)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import socket
import sys
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings
from mindkeeper.config import Settings, redact_url
from mindkeeper.errors import StartupError
from mindkeeper.http.metrics.files import prepare_multiprocess_dir
from mindkeeper.logs import uvicorn_log_config
from mindkeeper.storage import migrate as migrations


def register(sub: Any) -> None:
    """Add the subcommand."""
    parser = sub.add_parser("serve", help="run the server")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8000)")
    parser.add_argument("--workers", type=int, help="HTTP worker processes (default 1)")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="allow binding beyond loopback with authentication off (not recommended)",
    )
    add_database_option(parser)
    parser.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, insecure: bool) -> str | None:
    """Why the server must not start as configured (None when it may).

    With authentication off only loopback is allowed unless `--insecure`; with it on, the
    secrets must load.
    """
    if not settings.auth_enabled:
        if is_loopback(settings.host) or insecure:
            return None
        return (
            f"refusing to listen on {settings.host} with authentication off: anyone who can "
            "reach the port could read and change every memory. Turn authentication on "
            "(MINDKEEPER_AUTH_ENABLED=true, see docs/security.md), bind to 127.0.0.1, or pass "
            "--insecure if something else guards the port."
        )
    from mindkeeper.bootstrap import build_security
    from mindkeeper.providers.secrets import SecretError

    try:
        build_security(settings)
    except SecretError as exc:
        return str(exc)
    return None


def describe_auth(settings: Settings, insecure: bool) -> str:
    """One line on how requests are authenticated."""
    if settings.auth_enabled:
        bedrock = (
            "Bedrock SigV4"
            if settings.auth_credentials_key or settings.auth_credentials_key_file
            else "Bedrock SigV4 (no credentials key set: every Bedrock request is refused)"
        )
        return f"authentication on: Honcho bearer keys, {bedrock}"
    if insecure and not is_loopback(settings.host):
        return "WARNING: authentication is OFF and the port is reachable beyond this host"
    return "authentication is off: serving this host only (loopback)"


def check_port(host: str, port: int) -> None:
    """StartupError when the address cannot be bound (in use, not local, unknown host)."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            # The options the server's own listening socket uses.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                reason = os.strerror(exc.errno) if exc.errno else str(exc)
                raise StartupError(f"cannot listen on {host}:{port}: {reason}") from None


def check_startup(settings: Settings) -> None:
    """Load the secrets and keyring the server reads from files, and try the port, first.

    Server processes build the application themselves; a bad file or a taken port is found
    here instead, as a StartupError in the process the user started, before any migration.
    """
    from mindkeeper.bootstrap import build_keyring, build_security

    build_security(settings)
    try:
        build_keyring(settings)
    except ValueError as exc:  # the keyring names the setting and what is wrong with it
        raise StartupError(str(exc)) from None
    check_port(settings.host, settings.port)


def run(args: argparse.Namespace) -> int:
    """Migrate and serve until interrupted."""
    import uvicorn

    settings = load_settings(args, host=args.host, port=args.port, workers=args.workers)
    check_startup(settings)
    refusal = check_exposure(settings, args.insecure)
    if refusal:
        print(f"mindkeeper: {refusal}", file=sys.stderr, flush=True)
        return 2
    # Worker processes rebuild settings from the environment: hand the overrides down.
    os.environ["MINDKEEPER_DATABASE_URL"] = settings.database_url
    asyncio.run(migrations.upgrade(settings.database_url))
    path = settings.sqlite_path()
    where = f"SQLite file {path}" if path else redact_url(settings.database_url)
    print(f"mindkeeper: database {where} (schema at {migrations.head_revision()})", flush=True)
    print(f"mindkeeper: listening on http://{settings.host}:{settings.port}", flush=True)
    print(f"mindkeeper: {describe_auth(settings, args.insecure)}", flush=True)
    # Metrics of every worker process are added up from files in one directory.
    prepare_multiprocess_dir(settings.metrics_enabled)
    uvicorn.run(
        "mindkeeper.bootstrap:app_factory",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        log_config=uvicorn_log_config(settings.log_format, settings.log_level),
        access_log=args.access_log,
        loop="uvloop",
        http="mindkeeper.http.parser_errors:AwsShapedHttpToolsProtocol",
        proxy_headers=False,
        server_header=False,
    )
    return 0
