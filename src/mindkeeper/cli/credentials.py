"""`mindkeeper credentials`: access keys for the Bedrock surface (SigV4).

    mindkeeper credentials generate-key --file /etc/mindkeeper/credentials.key
    mindkeeper credentials create [--account-id 123456789012]
    mindkeeper credentials list
    mindkeeper credentials revoke MKIA…

The secret access key is printed once, in the format of `~/.aws/credentials`, and stored
sealed with the credentials key (MINDKEEPER_AUTH_CREDENTIALS_KEY[_FILE]).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from mindkeeper.cli.common import add_database_option, load_settings, with_database
from mindkeeper.cli.keys import emit_secret
from mindkeeper.core.services import credentials
from mindkeeper.providers.secrets import (
    SecretError,
    generate_credentials_key,
    load_credentials_box,
)


def register(sub: Any) -> None:
    """Add the `credentials` command group."""
    parser = sub.add_parser("credentials", help="manage Bedrock access keys (SigV4)")
    group = parser.add_subparsers(dest="credentials_command", required=True)

    create = group.add_parser("create", help="create an access key and print it once")
    create.add_argument(
        "--account-id", help="the 12-digit account it acts for (default: bedrock_account_id)"
    )
    add_database_option(create)
    create.set_defaults(func=run_create)

    listing = group.add_parser("list", help="list access keys (never their secrets)")
    add_database_option(listing)
    listing.set_defaults(func=run_list)

    revoke = group.add_parser("revoke", help="revoke an access key")
    revoke.add_argument("access_key_id")
    add_database_option(revoke)
    revoke.set_defaults(func=run_revoke)

    key = group.add_parser("generate-key", help="print (or write) a new credentials key")
    key.add_argument("--file", type=Path, help="write it to this file (mode 0600)")
    key.set_defaults(func=run_generate_key)


def run_create(args: argparse.Namespace) -> int:
    """Create an access key and print it in `~/.aws/credentials` format."""
    settings = load_settings(args)
    account_id = args.account_id or settings.bedrock_account_id
    box = load_credentials_box(settings.auth_credentials_key, settings.auth_credentials_key_file)
    if box is None:
        raise SecretError(
            "no credentials key is set: set MINDKEEPER_AUTH_CREDENTIALS_KEY_FILE (or "
            "MINDKEEPER_AUTH_CREDENTIALS_KEY); `mindkeeper credentials generate-key --file PATH` "
            "makes one"
        )
    created = asyncio.run(
        with_database(settings, lambda open_uow: credentials.create(open_uow(), box, account_id))
    )
    print(
        f"mindkeeper: access key for account {created.account_id}; the secret is shown only now",
        file=sys.stderr,
    )
    print(f"aws_access_key_id = {created.access_key_id}")
    print(f"aws_secret_access_key = {created.secret_access_key}")
    print(f"account_id = {created.account_id}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print one line per access key: id, account, created, revoked."""
    settings = load_settings(args)
    stored = asyncio.run(with_database(settings, lambda open_uow: credentials.list(open_uow())))
    for key in stored:
        revoked = f"revoked {key.revoked_at.isoformat()}" if key.revoked_at else "active"
        print(f"{key.access_key_id}  {key.account_id}  {key.created_at.isoformat()}  {revoked}")
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke an access key; running servers refuse it within `auth_cache_seconds`."""
    settings = load_settings(args)
    asyncio.run(
        with_database(settings, lambda open_uow: credentials.revoke(open_uow(), args.access_key_id))
    )
    print(f"mindkeeper: revoked access key {args.access_key_id}")
    return 0


def run_generate_key(args: argparse.Namespace) -> int:
    """Print a new credentials key, or write it to a new owner-only file."""
    return emit_secret(
        generate_credentials_key(),
        args.file,
        "credentials key",
        "MINDKEEPER_AUTH_CREDENTIALS_KEY_FILE",
    )
