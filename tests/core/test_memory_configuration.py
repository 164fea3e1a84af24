"""Configuration of background work: the precedence message -> session -> workspace ->
defaults."""

from __future__ import annotations

from mindkeeper.core.entities import JSONObject
from mindkeeper.core.services.memory import configuration

DEFAULTS = configuration.Defaults()
WORKSPACES: list[JSONObject | None] = [
    None,
    {"reasoning": {"enabled": False, "custom_instructions": "workspace"}},
    {"skip_deriver": True, "summary": {"enabled": False, "messages_per_short_summary": 7}},
]
SESSIONS: list[JSONObject | None] = [
    None,
    {"reasoning": {"custom_instructions": "session"}, "dream": {"enabled": False}},
    {"deriver": {"enabled": True}, "peer_card": {"create": False}},
]
MESSAGES: list[JSONObject | None] = [
    None,
    {},
    {"reasoning": {"enabled": True}},
    {"reasoning": {"enabled": None, "custom_instructions": ""}},
    {"reasoning": {"custom_instructions": "message"}},
    {"skip_deriver": True},
    {"deriver": {"enabled": False}, "summary": {"enabled": False}},
]


def test_precedence() -> None:
    workspace = WORKSPACES[1]
    assert configuration.resolve(DEFAULTS, workspace, None).reasoning is False
    settings = configuration.resolve(DEFAULTS, workspace, SESSIONS[1], MESSAGES[2])
    assert (settings.reasoning, settings.custom_instructions) == (True, "session")
    assert settings.dream is False
    # A message's empty instructions clear the session's; its summary settings are not read.
    cleared = configuration.resolve(DEFAULTS, workspace, SESSIONS[1], MESSAGES[3])
    assert (cleared.reasoning, cleared.custom_instructions) == (False, None)
    legacy = configuration.resolve(DEFAULTS, None, SESSIONS[2], MESSAGES[6])
    assert (legacy.reasoning, legacy.summary, legacy.peer_card_create) == (False, True, False)
    assert configuration.resolve(DEFAULTS, WORKSPACES[2], None).short_every == 7
    assert configuration.resolve(DEFAULTS, WORKSPACES[2], None, MESSAGES[2]).reasoning is True
    assert configuration.resolve(DEFAULTS, None, None, MESSAGES[5]).reasoning is False
    assert configuration.resolve(DEFAULTS, None, None, MESSAGES[1]) == configuration.resolve(
        DEFAULTS, None, None
    )
    # A session's settings reused for each of its messages give the same result.
    session_settings = configuration.resolve(DEFAULTS, workspace, SESSIONS[1])
    assert configuration.with_message(session_settings, MESSAGES[4]).custom_instructions == (
        "message"
    )
