"""Names and texts as clients send them: no stored name holds a NUL character, so a name
with one names nothing (it is never looked up), and NUL characters are dropped from free
text (queries), as from every stored text."""

from __future__ import annotations


def storable(*names: str | None) -> bool:
    """False when any of the names holds a NUL character."""
    return not any(name is not None and "\x00" in name for name in names)


def text(value: str) -> str:
    """The text without NUL characters."""
    return value.replace("\x00", "")
