"""The restricted recall filter of chat and representation (Honcho v3 §4.6): a session
allowlist `{"session_id": <id> | [ids] | {"in": [ids]}}`, with upstream's error strings; the
`sessions` list of session context; and the `scope` option of the recall routes (one scope
name or a list of them), which narrows recall to the sessions of those scopes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mindkeeper.errors import Invalid

#: Most sessions one allowlist may name.
MAX_SESSIONS = 1000
#: Most scopes one `scope` option may name.
MAX_SCOPES = 100


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


def listed_sessions(names: Sequence[str]) -> list[str]:
    """The `sessions` allowlist of session context (duplicates removed); Invalid (422) for an
    empty name or too many names."""
    if any(not name for name in names):
        raise Invalid("sessions entries must be non-empty strings")
    if len(names) > MAX_SESSIONS:
        raise Invalid(f"sessions supports at most {MAX_SESSIONS} sessions per request")
    return list(dict.fromkeys(names))


def scope_names(scope: str | Sequence[str] | None) -> list[str] | None:
    """The scope names of a `scope` option (duplicates removed), or None when there is none;
    Invalid (422) for an empty name or too many names. An empty list names no scope, so it
    recalls nothing."""
    if scope is None:
        return None
    names = [scope] if isinstance(scope, str) else list(scope)
    if any(not isinstance(name, str) or not name for name in names):
        raise Invalid("scope entries must be non-empty strings")
    if len(names) > MAX_SCOPES:
        raise Invalid(f"scope supports at most {MAX_SCOPES} scopes per request")
    return list(dict.fromkeys(names))


def narrow(allowlist: Sequence[str] | None, scoped: Sequence[str] | None) -> list[str] | None:
    """The sessions both lists keep (in the allowlist's order); either alone when the other is
    None; None when both are."""
    if scoped is None:
        return None if allowlist is None else list(allowlist)
    if allowlist is None:
        return list(scoped)
    kept = set(scoped)
    return [name for name in allowlist if name in kept]
