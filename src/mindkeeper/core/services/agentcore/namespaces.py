"""Namespace templates: their variables, the values events give them, and resolution.

A template is a path with `{variable}` parts. Built-in variables are `{actorId}`,
`{sessionId}` and `{memoryStrategyId}` (`{strategyId}` is accepted as another spelling of the
last); any other variable must be one of the memory's namespace keys, whose values come with
each event (`namespaceVariables`) and must satisfy the key's allowed values and pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from mindkeeper.core.ports.agentcore import Memory, NamespaceKey, Strategy
from mindkeeper.errors import Invalid

BUILT_IN = frozenset({"actorId", "sessionId", "memoryStrategyId", "strategyId"})
_VARIABLE = re.compile(r"\{([a-zA-Z][a-zA-Z0-9]*)\}")


def variables(template: str) -> set[str]:
    """The variables a template uses."""
    return set(_VARIABLE.findall(template))


def custom_variables(templates: Iterable[str]) -> set[str]:
    """The variables of templates that are not built in."""
    used: set[str] = set()
    for template in templates:
        used |= variables(template) - BUILT_IN
    return used


def templates_of(strategies: Iterable[Strategy]) -> list[str]:
    """Every namespace template of the strategies (reflections included)."""
    out: list[str] = []
    for strategy in strategies:
        out.append(strategy.template)
        if strategy.reflection_template:
            out.append(strategy.reflection_template)
        if strategy.reflection is not None and strategy.reflection.template:
            out.append(strategy.reflection.template)
    return out


def check_keys(strategies: Iterable[Strategy], keys: Iterable[NamespaceKey]) -> None:
    """Invalid when a template uses a variable that is neither built in nor a namespace key."""
    declared = {k.key for k in keys}
    unknown = sorted(custom_variables(templates_of(strategies)) - declared)
    if unknown:
        names = ", ".join("{" + u + "}" for u in unknown)
        raise Invalid(f"Namespace templates use variables that are not namespace keys: {names}")


def compile_rule(key: NamespaceKey) -> re.Pattern[str] | None:
    """The compiled pattern of a namespace key (Invalid when it does not compile)."""
    if key.regex is None:
        return None
    try:
        return re.compile(key.regex)
    except re.error as exc:
        raise Invalid(f"The regexPattern of namespace key {key.key} is not valid: {exc}") from None


def check_values(memory: Memory, values: Mapping[str, str]) -> None:
    """Invalid when an event's namespace variables are not keys of the memory or break
    their rules."""
    keys = {k.key: k for k in memory.settings.namespace_keys}
    for name, value in values.items():
        key = keys.get(name)
        if key is None:
            raise Invalid(f"{name} is not a namespace key of memory {memory.id}")
        if key.allowed is not None and value not in key.allowed:
            raise Invalid(
                f"Value '{value}' of namespace variable {name} is not one of its allowed values"
            )
        rule = compile_rule(key)
        if rule is not None and not rule.fullmatch(value):
            raise Invalid(
                f"Value '{value}' of namespace variable {name} does not match its pattern"
            )


def missing_values(memory: Memory, values: Mapping[str, str]) -> list[str]:
    """Custom variables the memory's extracting strategies need that an event lacks."""
    strategies = [s for s in memory.settings.strategies if s.behaviour != "none"]
    return sorted(custom_variables(templates_of(strategies)) - set(values))


def resolve(
    template: str, actor: str, session: str, strategy_id: str, values: Mapping[str, str]
) -> str:
    """The namespace a template names for an actor, session, strategy and custom values."""
    known = {
        "actorId": actor,
        "sessionId": session,
        "memoryStrategyId": strategy_id,
        "strategyId": strategy_id,
        **values,
    }
    return _VARIABLE.sub(lambda m: known.get(m.group(1), m.group(0)), template)
