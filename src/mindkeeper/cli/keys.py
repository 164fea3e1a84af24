"""`mindkeeper keys`: mint admin and scoped bearer keys, revoke one, generate the JWT secret.

    mindkeeper keys generate-secret --file /etc/mindkeeper/jwt.secret
    mindkeeper keys create --admin
    mindkeeper keys create --app-id A [--user-id U] [--session-id S] [--collection-id C]
    mindkeeper keys create --workspace W [--peer P] [--session S]
    mindkeeper keys revoke <key id (jti) or the key itself>

`--app-id` and the other ids make a key of the v1 surface (resources by public id, checked to
exist); `--workspace`, `--peer` and `--session` make a key of the v3 surface (resources by
name, as `POST /v3/keys` does). An admin key works on both. A key is printed once on stdout
and stored nowhere; only revocations are stored.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from mindkeeper.cli.common import add_database_option, load_settings, with_database
from mindkeeper.config import Settings
from mindkeeper.core.ports.auth import KeyCodec
from mindkeeper.core.services import keys
from mindkeeper.core.values import utcnow
from mindkeeper.errors import Invalid
from mindkeeper.providers.secrets import SecretError, generate_jwt_secret, load_jwt_codec

T = TypeVar("T")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def register(sub: Any) -> None:
    """Add the `keys` command group."""
    parser = sub.add_parser("keys", help="mint and revoke Honcho bearer keys")
    group = parser.add_subparsers(dest="keys_command", required=True)

    create = group.add_parser("create", help="mint a key and print it once")
    create.add_argument("--admin", action="store_true", help="a key that reaches everything")
    create.add_argument("--app-id", help="an app key (or the app of a narrower key)")
    create.add_argument("--user-id", help="a user key")
    create.add_argument("--session-id", help="a session key")
    create.add_argument("--collection-id", help="a collection key")
    create.add_argument(
        "--workspace", help="a v3 workspace key (or the workspace of a narrower one)"
    )
    create.add_argument("--peer", help="a v3 peer key (with --workspace)")
    create.add_argument("--session", help="a v3 session key (with --workspace)")
    create.add_argument("--expires-in", help="lifetime: 3600, 90s, 15m, 12h or 30d")
    add_database_option(create)
    create.set_defaults(func=run_create)

    revoke = group.add_parser("revoke", help="revoke a key by its id (jti) or the key itself")
    revoke.add_argument("key", help="the key id or the whole key")
    add_database_option(revoke)
    revoke.set_defaults(func=run_revoke)

    secret = group.add_parser("generate-secret", help="print (or write) a new JWT secret")
    secret.add_argument("--file", type=Path, help="write it to this file (mode 0600)")
    secret.set_defaults(func=run_generate_secret)


def fail(message: str, code: int = 2) -> int:
    """Print an error to stderr and return the exit status."""
    print(f"mindkeeper: {message}", file=sys.stderr)
    return code


def parse_duration(text: str) -> timedelta:
    """Parse `3600`, `90s`, `15m`, `12h` or `30d`."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"not a positive duration: {text!r} (use e.g. 3600, 15m, 12h, 30d)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def write_secret_file(path: Path, text: str) -> None:
    """Create a file readable only by its owner; refuse to overwrite one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


def _codec(settings: Settings) -> KeyCodec:
    codec = load_jwt_codec(settings.auth_jwt_secret, settings.auth_jwt_secret_file)
    if codec is None:
        raise SecretError(
            "no JWT secret is set: set MINDKEEPER_AUTH_JWT_SECRET_FILE (or "
            "MINDKEEPER_AUTH_JWT_SECRET); `mindkeeper keys generate-secret --file PATH` makes one"
        )
    return codec


def run_create(args: argparse.Namespace) -> int:
    """Mint a key and print it on stdout."""
    settings = load_settings(args)
    ids = (args.app_id, args.user_id, args.session_id, args.collection_id)
    names = (args.workspace, args.peer, args.session)
    if [args.admin, any(ids), any(names)].count(True) != 1:
        return fail(
            "give either --admin, or v1 ids (--app-id/--user-id/--session-id/--collection-id), "
            "or v3 names (--workspace/--peer/--session)"
        )
    codec = _codec(settings)
    try:
        lifetime = parse_duration(args.expires_in) if args.expires_in else None
    except ValueError as exc:
        return fail(str(exc))
    now = utcnow()
    expires_at: datetime | None = now + lifetime if lifetime else None
    if args.admin:
        minted = keys.mint_admin(codec, now, expires_at)
    elif any(names):
        try:
            minted = keys.mint_by_name(
                codec,
                now,
                workspace=args.workspace,
                peer=args.peer,
                session=args.session,
                expires_at=expires_at,
            )
        except Invalid as exc:
            return fail(exc.message.replace("workspace_id", "--workspace"))
    else:
        minted = asyncio.run(
            with_database(
                settings,
                lambda open_uow: keys.mint(
                    open_uow(),
                    codec,
                    now,
                    workspace_id=args.app_id,
                    peer_id=args.user_id,
                    session_id=args.session_id,
                    collection_id=args.collection_id,
                    expires_at=expires_at,
                ),
            )
        )
    scope = minted.scope
    what = (
        "admin key"
        if scope.admin
        else "key for "
        + ", ".join(
            f"{name} {value}"
            for name, value in (
                ("workspace", scope.workspace_name),
                ("peer", scope.peer_name),
                ("session", scope.session_name),
                ("app", scope.workspace_id),
                ("user", scope.peer_id),
                ("session", scope.session_id),
                ("collection", scope.collection_id),
            )
            if value
        )
    )
    until = f", expires {expires_at.isoformat()}" if expires_at else ""
    print(
        f"mindkeeper: {what} (key id {scope.key_id}{until}); it is shown only now",
        file=sys.stderr,
    )
    print(minted.token)
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Record a revocation; running servers refuse the key within `auth_cache_seconds`."""
    settings = load_settings(args)
    codec = _codec(settings)
    key_id = asyncio.run(
        with_database(settings, lambda open_uow: keys.revoke(open_uow(), codec, args.key, utcnow()))
    )
    print(f"mindkeeper: revoked key {key_id}")
    return 0


def emit_secret(secret: str, file: Path | None, what: str, setting: str) -> int:
    """Print a new secret, or write it to a new owner-only file and name the setting."""
    if file is None:
        print(secret)
        return 0
    try:
        write_secret_file(file, secret)
    except FileExistsError:
        return fail(f"{file} exists; not overwriting it")
    except OSError as exc:
        return fail(f"cannot write {file}: {exc.strerror}")
    print(f"mindkeeper: wrote a new {what} to {file}; set {setting}={file}", file=sys.stderr)
    return 0


def run_generate_secret(args: argparse.Namespace) -> int:
    """Print a new JWT secret, or write it to a new owner-only file."""
    return emit_secret(
        generate_jwt_secret(), args.file, "JWT secret", "MINDKEEPER_AUTH_JWT_SECRET_FILE"
    )
