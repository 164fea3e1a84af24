"""Prompts of the named (v3) memory work and parsing of the JSON answers.

Messages are rendered as `<peer name>: <content>` lines. Every prompt that wants structured
output asks for one JSON object; `json_object` finds it in what models really send (code
fences, prose around it) and raises `MalformedOutput` when there is none, which the queue
retries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from mindkeeper.core.ports.models import ChatMessage, MalformedOutput, Prompt

MAX_ITEMS = 20
MAX_ITEM_CHARS = 1000
#: Most lines of a peer card.
CARD_MAX = 40

FACTS_SYSTEM = """\
You maintain a memory of facts about {name}, one participant of conversations with other \
people and AI agents. From the new messages {name} wrote, extract the facts they state or \
clearly imply about {name}: identity, preferences, relationships, plans, circumstances, \
opinions, habits. Use the earlier conversation only to resolve what the new messages refer to.

Rules:
- Only facts about {name} that the new messages support; no guesses.
- One fact per item, a short standalone sentence in the third person, naming {name}.
- Nothing said only by others.
- If the messages contain no such fact, return an empty list.

Answer with one JSON object and nothing else: {{"facts": ["{name} ...", ...]}}"""

CARD_SYSTEM = """\
You keep the peer card of {name}: a short list of the most important, stable facts about \
them (name, age, location, occupation, key relationships, lasting preferences), one short \
line each, at most {limit} lines. Update the card with what is new; drop what is contradicted.

Answer with one JSON object and nothing else: {{"card": ["...", ...]}}"""

SUMMARY_SYSTEM = """\
You summarise conversations among several participants for their memory.
Keep what matters later: who said what about themselves, what they want, decisions, open \
questions, tone. Write plain prose, no headings, no lists. Answer with the summary only."""

DREAM_SYSTEM = """\
You consolidate what is known about {name}. You are given numbered conclusions (explicit \
observations and earlier reasoning). Reason over them and answer with new conclusions only:
- deductive: what follows with certainty from some of them (list their numbers as premises);
- inductive: patterns that several of them suggest (list their numbers as sources, and a \
confidence: low, medium or high);
- contradictions: pairs or groups that cannot all be true (list their numbers as sources);
- card: the updated peer card of {name} (short lines, at most {limit}).
Do not repeat a given conclusion. Empty lists are fine.

Answer with one JSON object and nothing else:
{{"deductive": [{{"conclusion": "...", "premises": [1, 2]}}],
 "inductive": [{{"conclusion": "...", "sources": [1, 3], "confidence": "medium"}}],
 "contradictions": [{{"conclusion": "...", "sources": [2, 4]}}],
 "card": ["..."]}}"""

DIALECTIC_SYSTEM = """\
You are the memory of an application. You answer questions about {observed} from what \
{observer} knows: conclusions drawn from past conversations, {observed}'s peer card, \
summaries and recent messages. Answer directly and briefly, for the application. Say how sure \
you are when the evidence is thin. Use only the context given; if nothing in it helps, reply \
with exactly: None"""

FORMAT_INSTRUCTIONS = """\
Answer with one JSON document and nothing else (no code fences, no prose) that matches this \
JSON Schema:
{schema}"""


def render(lines: Sequence[tuple[str, str]]) -> str:
    """`name: content` lines."""
    return "\n".join(f"{name}: {content}" for name, content in lines)


def _with_instructions(system: str, instructions: str | None) -> str:
    if not instructions:
        return system
    return f"{system}\n\nInstructions of the application:\n{instructions}"


def facts_prompt(
    name: str,
    earlier: Sequence[tuple[str, str]],
    new: Sequence[str],
    instructions: str | None,
    max_tokens: int,
) -> Prompt:
    """Extract facts about `name` from the new messages they wrote."""
    text = (
        f"<conversation>\n{render(earlier) or '(none)'}\n</conversation>\n\n"
        f'<new_messages from="{name}">\n'
        + "\n".join(new)
        + f"\n</new_messages>\n\nExtract the facts about {name} as "
        + '{"facts": [...]}.'
    )
    system = _with_instructions(FACTS_SYSTEM.format(name=name), instructions)
    return Prompt(system, (ChatMessage("user", text),), max_tokens=max_tokens)


def card_prompt(
    name: str, card: Sequence[str] | None, facts: Sequence[str], max_tokens: int
) -> Prompt:
    """Update (or write) the peer card of `name` with new facts."""
    current = "\n".join(card or []) or "(empty)"
    text = (
        f"<card>\n{current}\n</card>\n\n<new_facts>\n"
        + "\n".join(f"- {f}" for f in facts)
        + '\n</new_facts>\n\nAnswer with the updated card as {"card": [...]}.'
    )
    system = CARD_SYSTEM.format(name=name, limit=CARD_MAX)
    return Prompt(system, (ChatMessage("user", text),), max_tokens=max_tokens)


def summary_prompt(
    lines: Sequence[tuple[str, str]], previous: str | None, long: bool, max_tokens: int
) -> Prompt:
    """A short (a few sentences) or long (a thorough page) summary of named messages."""
    size = (
        "a thorough summary (up to a page) covering the whole conversation"
        if long
        else "a concise summary of at most five sentences"
    )
    context = f"<earlier_summary>\n{previous}\n</earlier_summary>\n\n" if previous else ""
    text = (
        f"{context}<messages>\n{render(lines)}\n</messages>\n\n"
        f"Write {size} of these messages"
        + (", continuing the earlier summary." if previous else ".")
    )
    return Prompt(SUMMARY_SYSTEM, (ChatMessage("user", text),), max_tokens=max_tokens)


def dream_prompt(
    name: str, conclusions: Sequence[tuple[str, str]], card: Sequence[str] | None, max_tokens: int
) -> Prompt:
    """Consolidate numbered (level, content) conclusions about `name`."""
    numbered = "\n".join(
        f"{i}. [{level}] {content}" for i, (level, content) in enumerate(conclusions, start=1)
    )
    text = (
        f"<card>\n{chr(10).join(card or []) or '(empty)'}\n</card>\n\n"
        f"<conclusions>\n{numbered or '(none)'}\n</conclusions>"
    )
    system = DREAM_SYSTEM.format(name=name, limit=CARD_MAX)
    return Prompt(system, (ChatMessage("user", text),), max_tokens=max_tokens)


def dialectic_prompt(
    query: str,
    observer: str,
    observed: str,
    conclusions: Sequence[str],
    card: Sequence[str] | None,
    summary: str | None,
    recent: Sequence[tuple[str, str]],
    schema: dict[str, Any] | None,
    max_tokens: int,
) -> Prompt:
    """The prompt of the v3 dialectic chat."""
    facts = "\n".join(f"- {c}" for c in conclusions) or "(none)"
    parts = [f"<query>\n{query}\n</query>", f"<conclusions>\n{facts}\n</conclusions>"]
    if card:
        parts.append("<peer_card>\n" + "\n".join(card) + "\n</peer_card>")
    if summary:
        parts.append(f"<conversation_summary>\n{summary}\n</conversation_summary>")
    if recent:
        parts.append(f"<recent_messages>\n{render(recent)}\n</recent_messages>")
    system = DIALECTIC_SYSTEM.format(observer=observer, observed=observed)
    if schema is not None:
        system += "\n\n" + FORMAT_INSTRUCTIONS.format(schema=json.dumps(schema, indent=1))
    return Prompt(system, (ChatMessage("user", "\n\n".join(parts)),), max_tokens=max_tokens)


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def json_object(text: str, what: str) -> dict[str, Any]:
    """The JSON object of an answer (inside fences or prose); MalformedOutput when none."""
    pieces = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for piece in pieces:
        piece = piece.strip()
        start, end = piece.find("{"), piece.rfind("}")
        for candidate in (piece, piece[start : end + 1] if 0 <= start < end else ""):
            if not candidate:
                continue
            try:
                value = json.loads(candidate)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    snippet = " ".join(text.split())[:200]
    raise MalformedOutput(f"{what} did not return a JSON object: {snippet!r}")


def strings(value: Any, limit: int = MAX_ITEMS) -> list[str]:
    """The non-empty strings of a JSON list (whitespace collapsed, no repeats)."""
    out: list[str] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            item = next((item[k] for k in ("conclusion", "fact", "text") if k in item), None)
        if not isinstance(item, str):
            continue
        text = " ".join(item.split())[:MAX_ITEM_CHARS]
        if text and text not in out:
            out.append(text)
    return out[:limit]


def numbers(value: Any, upper: int) -> list[int]:
    """The 1-based indexes in a JSON list that name one of `upper` items (0-based out)."""
    out: list[int] = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, int) and not isinstance(item, bool) and 1 <= item <= upper:
            if item - 1 not in out:
                out.append(item - 1)
    return out
