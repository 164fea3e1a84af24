"""Prompts of the deriver and the dialectic, and robust parsing of what models answer.

Fact extraction asks for a JSON object `{"facts": [...]}` and accepts what models really send:
code fences, a `<facts>` wrapper, prose around the JSON, a bare list, or objects with a `fact`
key. Anything else raises `MalformedOutput`, which the queue retries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from mindkeeper.core.entities import Message
from mindkeeper.core.ports.models import ChatMessage, MalformedOutput, Prompt

MAX_FACTS = 20
MAX_FACT_CHARS = 1000

FACTS_SYSTEM = """\
You maintain a memory of facts about one user of an AI application.
From the latest user message, extract the new facts it states about the user: identity,
preferences, relationships, plans, circumstances, opinions, habits. Use the earlier
conversation only to resolve what the latest message refers to.

Rules:
- Only facts the user states or clearly implies about themselves; no guesses.
- One fact per item, a short standalone sentence in the third person, starting with "The user".
- Nothing about the assistant, and nothing said only by the assistant.
- If the message contains no such fact, return an empty list.

Answer with one JSON object and nothing else: {"facts": ["The user ...", ...]}"""

SUMMARY_SYSTEM = """\
You summarise conversations between a user and an AI assistant for the assistant's memory.
Keep what matters later: who the user is, what they want, decisions, open questions, tone.
Write plain prose, no headings, no lists. Answer with the summary only."""

DIALECTIC_SYSTEM = """\
You are the memory of an AI application. The application asks you questions about one of its
users; you answer from what is known about that user: facts learnt from past conversations,
summaries of the current conversation, and its latest messages.

Answer the question directly and briefly, in a few sentences, for the application (not for
the user). Say how sure you are when the evidence is thin. Use only the context given.
If nothing in the context helps answer, reply with exactly: None"""


def render_messages(messages: Sequence[Message]) -> str:
    """Render messages as `user: …` / `assistant: …` lines."""
    return "\n".join(f"{'user' if m.is_user else 'assistant'}: {m.content}" for m in messages)


def facts_prompt(history: Sequence[Message], message: Message, max_tokens: int) -> Prompt:
    """The prompt that extracts facts from `message`, with the conversation before it."""
    earlier = render_messages([m for m in history if m.key < message.key]) or "(none)"
    text = (
        f"<conversation>\n{earlier}\n</conversation>\n\n"
        f"<latest_user_message>\n{message.content}\n</latest_user_message>\n\n"
        'Extract the facts about the user stated in the latest message as {"facts": [...]}.'
    )
    return Prompt(FACTS_SYSTEM, (ChatMessage("user", text),), max_tokens=max_tokens)


def summary_prompt(
    messages: Sequence[Message], previous: str | None, long: bool, max_tokens: int
) -> Prompt:
    """The prompt of a short (a few sentences) or long (a thorough page) summary."""
    size = (
        "a thorough summary (up to a page) covering the whole conversation"
        if long
        else "a concise summary of at most five sentences"
    )
    context = f"<earlier_summary>\n{previous}\n</earlier_summary>\n\n" if previous else ""
    text = (
        f"{context}<messages>\n{render_messages(messages)}\n</messages>\n\n"
        f"Write {size} of these messages"
        + (", continuing the earlier summary." if previous else ".")
    )
    return Prompt(SUMMARY_SYSTEM, (ChatMessage("user", text),), max_tokens=max_tokens)


def dialectic_prompt(
    query: str,
    facts: Sequence[str],
    summary: str | None,
    long_summary: str | None,
    recent: Sequence[Message],
    max_tokens: int,
) -> Prompt:
    """The prompt of the dialectic chat."""
    fact_lines = "\n".join(f"- {f}" for f in facts) or "(none)"
    parts = [f"<query>\n{query}\n</query>", f"<facts>\n{fact_lines}\n</facts>"]
    if long_summary:
        parts.append(f"<conversation_summary_long>\n{long_summary}\n</conversation_summary_long>")
    if summary:
        parts.append(f"<conversation_summary>\n{summary}\n</conversation_summary>")
    parts.append(f"<recent_messages>\n{render_messages(recent) or '(none)'}\n</recent_messages>")
    text = "\n\n".join(parts)
    return Prompt(DIALECTIC_SYSTEM, (ChatMessage("user", text),), max_tokens=max_tokens)


def representation(facts: Sequence[str], summary: str | None) -> str:
    """The text saved as the peer's representation note at each dialectic call."""
    lines = "\n".join(f"- {f}" for f in facts) or "(none)"
    text = f"Relevant long-term facts about the user:\n{lines}"
    if summary:
        text += f"\n\nCurrent conversation summary:\n{summary}"
    return text


_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TAG = re.compile(r"<facts>(.*?)</facts>", re.DOTALL | re.IGNORECASE)


def _candidates(text: str) -> list[str]:
    """Pieces of the answer that may hold the JSON, most specific first."""
    pieces = [m.group(1) for m in _TAG.finditer(text)]
    pieces += [m.group(1) for m in _FENCE.finditer(text)]
    pieces.append(text)
    out: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        out.append(piece)
        for open_, close in (("{", "}"), ("[", "]")):
            start, end = piece.find(open_), piece.rfind(close)
            if 0 <= start < end:
                out.append(piece[start : end + 1])
    return out


def _items(value: Any) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("facts", "Facts", "FACTS"):
            if isinstance(value.get(key), list):
                return list(value[key])
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
    return None


def _fact_text(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("fact", "text", "content", "statement"):
            if isinstance(item.get(key), str):
                return str(item[key])
    return None


def parse_facts(text: str) -> list[str]:
    """Return the facts of a fact-extraction answer; MalformedOutput when there is no JSON list."""
    for candidate in _candidates(text):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        items = _items(value)
        if items is None:
            continue
        facts: list[str] = []
        for item in items:
            fact = _fact_text(item)
            if fact is None:
                continue
            fact = " ".join(fact.split())[:MAX_FACT_CHARS]
            if fact and fact not in facts:
                facts.append(fact)
        return facts[:MAX_FACTS]
    snippet = " ".join(text.split())[:200]
    raise MalformedOutput(f'fact extraction did not return {{"facts": [...]}}: {snippet!r}')


def clean_summary(text: str) -> str:
    """Return a summary answer stripped; MalformedOutput when it is empty."""
    summary = text.strip()
    if not summary:
        raise MalformedOutput("the summary model returned an empty answer")
    return summary
