"""What background work a message calls for: configuration resolved message -> session ->
workspace -> server defaults (nested objects deep-merged, `null` meaning "inherit"), and who
observes its sender.

Keys (Honcho v3): `reasoning.enabled` and `reasoning.custom_instructions`, `peer_card.use` and
`peer_card.create`, `summary.enabled`, `summary.messages_per_short_summary` and
`summary.messages_per_long_summary`, `dream.enabled`. The legacy keys `deriver.enabled` and
`skip_deriver: true` of a session or workspace are read as `reasoning.enabled` (an explicit
`reasoning.enabled` at the same level wins). Only `reasoning` is read from a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mindkeeper.core.entities import JSONObject, Member, Peer


@dataclass(frozen=True, slots=True)
class Defaults:
    """The server's defaults."""

    reasoning: bool = True
    peer_card_use: bool = True
    peer_card_create: bool = True
    summary: bool = True
    short_every: int = 20
    long_every: int = 60
    dream: bool = True


@dataclass(frozen=True, slots=True)
class Resolved:
    """The effective settings of one message (or of a session, without message overrides)."""

    reasoning: bool
    custom_instructions: str | None
    peer_card_use: bool
    peer_card_create: bool
    summary: bool
    short_every: int
    long_every: int
    dream: bool


def _section(config: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    value = (config or {}).get(key)
    return value if isinstance(value, Mapping) else {}


def _reasoning_flag(config: Mapping[str, Any] | None) -> bool | None:
    """`reasoning.enabled`, else the legacy `deriver.enabled` / `skip_deriver: true`."""
    explicit = _section(config, "reasoning").get("enabled")
    if isinstance(explicit, bool):
        return explicit
    legacy = _section(config, "deriver").get("enabled")
    if isinstance(legacy, bool):
        return legacy
    if (config or {}).get("skip_deriver") is True:
        return False
    return None


def _first(values: Sequence[Any], kind: type, default: Any) -> Any:
    for value in values:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
    return default


def resolve(
    defaults: Defaults,
    workspace: JSONObject | None,
    session: JSONObject | None,
    message: JSONObject | None = None,
) -> Resolved:
    """The effective settings: message, then session, then workspace, then defaults."""
    tiers = (session, workspace)
    instructions = _first(
        [_section(c, "reasoning").get("custom_instructions") for c in tiers], str, None
    )

    def pick(section: str, key: str, kind: type, default: Any) -> Any:
        return _first([_section(c, section).get(key) for c in tiers], kind, default)

    resolved = Resolved(
        reasoning=_first([_reasoning_flag(c) for c in tiers], bool, defaults.reasoning),
        custom_instructions=instructions or None,
        peer_card_use=pick("peer_card", "use", bool, defaults.peer_card_use),
        peer_card_create=pick("peer_card", "create", bool, defaults.peer_card_create),
        summary=pick("summary", "enabled", bool, defaults.summary),
        short_every=pick("summary", "messages_per_short_summary", int, defaults.short_every),
        long_every=pick("summary", "messages_per_long_summary", int, defaults.long_every),
        dream=pick("dream", "enabled", bool, defaults.dream),
    )
    return with_message(resolved, message)


def with_message(resolved: Resolved, message: JSONObject | None) -> Resolved:
    """A session's settings (`resolve` without a message) with one message's overrides:
    the same as `resolve` given that message, without resolving the session again."""
    if not message:
        return resolved
    reasoning = _reasoning_flag(message)
    instructions = _section(message, "reasoning").get("custom_instructions")
    if isinstance(instructions, str):
        resolved = replace(resolved, custom_instructions=instructions or None)
    if reasoning is not None:
        resolved = replace(resolved, reasoning=reasoning)
    return resolved


def observed(sender: Peer, membership: Member | None) -> bool:
    """Whether anybody learns from the sender's messages: the session-level `observe_me`
    when set, else the peer's `configuration.observe_me` when it is a boolean, else true."""
    if membership is not None and membership.observe_me is not None:
        return membership.observe_me
    flag = sender.configuration.get("observe_me")
    return flag if isinstance(flag, bool) else True


def observers(sender: Peer, members: Sequence[Member]) -> list[str]:
    """The peers that learn from the sender's messages: the sender itself (its own view),
    then every other active member observing the others, in joining order; nobody when the
    sender is not observed."""
    own = next((m for m in members if m.peer_id == sender.id), None)
    if not observed(sender, own):
        return []
    others = [
        m.peer_id
        for m in members
        if m.peer_id != sender.id and m.left_at is None and m.observe_others is True
    ]
    return [sender.id, *others]
