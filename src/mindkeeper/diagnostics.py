"""What `mindkeeper doctor` reports and the console's configuration page shows: the version,
the resolved settings with secrets masked, the database's state, and what is missing."""

from __future__ import annotations

from typing import Any

from mindkeeper import __version__
from mindkeeper.config import Settings


def database_problems(database: dict[str, Any]) -> list[str]:
    """Problems of the database's state (unreachable, not at the schema head)."""
    if not database.get("reachable"):
        return [str(database.get("error") or "the database is unreachable")]
    if database.get("schema_revision") != database.get("schema_head"):
        return ["the schema is not at head: run `mindkeeper migrate`"]
    return []


def report(settings: Settings, database: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """The report: version, settings (secrets masked), database, missing pieces."""
    return {
        "version": __version__,
        "settings": settings.redacted(),
        "database": database,
        "missing": problems,
    }
