"""Helpers shared by commands: settings with command-line overrides, and the database or
runtime a command works on (migrated to the shipped schema first, as `serve` does)."""

from __future__ import annotations

import argparse
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import SettingsError

from mindkeeper.config import Settings, redact_url
from mindkeeper.core.ports import UnitOfWork
from mindkeeper.errors import StartupError

if TYPE_CHECKING:
    from mindkeeper.bootstrap import AppRuntime
    from mindkeeper.storage.engine import Database

T = TypeVar("T")

ENV_PREFIX = "MINDKEEPER_"
_SOURCE_FIELD = re.compile(r'field "([^"]+)"')
#: Values of these settings are never repeated in messages.
_SECRET_FIELD = re.compile(r"secret|key|password|token")


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """Add `--database-url`."""
    parser.add_argument(
        "--database-url",
        help="postgresql://… or sqlite:///…; default: MINDKEEPER_DATABASE_URL or a SQLite file",
    )


def _setting_name(field: str, overrides: dict[str, Any]) -> str:
    name = ENV_PREFIX + field.upper()
    return f"{name} (given on the command line)" if field in overrides else name


def _describe(exc: ValidationError, overrides: dict[str, Any]) -> str:
    """One line for every invalid value: the variable, the value (unless secret), the rule."""
    parts = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        shown = ""
        if isinstance(given, str | int | float) and not _SECRET_FIELD.search(field):
            shown = f" {redact_url(given)!r}" if isinstance(given, str) else f" {given!r}"
        parts.append(f"{_setting_name(field, overrides)}{shown}: {message}")
    return "invalid setting " + "; ".join(parts)


def load_settings(args: argparse.Namespace, **extra: Any) -> Settings:
    """Build settings from the environment, then apply command-line overrides.

    An invalid value is a StartupError naming the MINDKEEPER_ variable.
    """
    overrides = {k: v for k, v in extra.items() if v is not None}
    if getattr(args, "database_url", None):
        overrides["database_url"] = args.database_url
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise StartupError(_describe(exc, overrides)) from None
    except SettingsError as exc:  # a value that is not the JSON the setting needs
        match = _SOURCE_FIELD.search(str(exc))
        field = match.group(1) if match else "settings"
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise StartupError(
            f"invalid setting {_setting_name(field, overrides)}: not valid JSON{cause}"
        ) from None


@asynccontextmanager
async def migrated_database(settings: Settings) -> AsyncIterator[Database]:
    """The database brought to the schema head, disposed of on the way out."""
    from mindkeeper.storage import migrate
    from mindkeeper.storage.engine import create_database

    await migrate.upgrade(settings.database_url)
    database = create_database(settings)
    try:
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def migrated_runtime(settings: Settings) -> AsyncIterator[AppRuntime]:
    """A runtime over the database brought to the schema head, closed on the way out."""
    from mindkeeper.bootstrap import build_runtime
    from mindkeeper.storage import migrate

    await migrate.upgrade(settings.database_url)
    runtime = build_runtime(settings)
    try:
        yield runtime
    finally:
        await runtime.close()


async def with_database(
    settings: Settings, work: Callable[[Callable[[], UnitOfWork]], Awaitable[T]]
) -> T:
    """Migrate the database to head, then run `work` with a unit-of-work factory."""
    from mindkeeper.storage.uow import SqlUnitOfWork

    async with migrated_database(settings) as database:
        return await work(lambda: SqlUnitOfWork(database))
