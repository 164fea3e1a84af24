"""The restricted recall filter of chat and representation (Honcho v3 §4.6): a session
allowlist `{"session_id": <id> | [ids] | {"in": [ids]}}`, with upstream's error strings."""

from __future__ import annotations

from typing import Any

from mindkeeper.errors import Invalid

#: Most sessions one allowlist may name.
MAX_SESSIONS = 1000


def session_allowlist(filters: dict[str, Any] | None, session_id: str | None) -> list[str] | None:
    """The allowlisted session names (duplicates removed, first occurrence kept), or None when
    there is no filter; Invalid (422) for anything else than a well-formed allowlist that
    includes `session_id` when one is given. An empty list means "no session" (fail closed)."""
    if filters is None:
        return None
    unsupported = sorted(k for k in filters if k != "session_id")
    if unsupported:
        raise Invalid(
            f"Unsupported filter key(s) for this endpoint: {unsupported!r}. "
            "Only 'session_id' is supported."
        )
    if "session_id" not in filters:
        raise Invalid("filters must contain 'session_id'")
    value = filters["session_id"]
    if isinstance(value, dict) and list(value) == ["in"]:
        value = value["in"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise Invalid(
            'filters.session_id must be a session id, a list of session ids, or {"in": [...]}'
        )
    if any(not isinstance(v, str) or not v for v in value):
        raise Invalid("filters.session_id entries must be non-empty strings")
    if len(value) > MAX_SESSIONS:
        raise Invalid(f"filters.session_id supports at most {MAX_SESSIONS} sessions per request")
    names = list(dict.fromkeys(value))
    if session_id is not None and session_id not in names:
        raise Invalid("session_id must be included in filters.session_id")
    return names
