"""Helpers shared by commands: settings with command-line overrides."""

from __future__ import annotations

import argparse
import re
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from mindkeeper.config import Settings, redact_url
from mindkeeper.errors import StartupError

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
