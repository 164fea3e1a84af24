"""Memory strategies on the wire: the input unions of CreateMemory / UpdateMemory to core specs,
and core strategies to the `strategies[]` output shape (with `configuration` for overrides)."""

from __future__ import annotations

from typing import Any

from mindkeeper.core.ports.agentcore import PromptOverride, Strategy, StrategyType
from mindkeeper.core.services.agentcore.memories import REMOVE, StrategyChange, StrategySpec

JSON = dict[str, Any]

#: Input union key -> strategy type.
TYPES = {
    "semanticMemoryStrategy": StrategyType.SEMANTIC,
    "summaryMemoryStrategy": StrategyType.SUMMARIZATION,
    "userPreferenceMemoryStrategy": StrategyType.USER_PREFERENCE,
    "episodicMemoryStrategy": StrategyType.EPISODIC,
    "customMemoryStrategy": StrategyType.CUSTOM,
}
#: Custom configuration union key -> the behaviour it overrides.
OVERRIDES = {
    "semanticOverride": "semantic",
    "summaryOverride": "summary",
    "userPreferenceOverride": "user_preference",
    "episodicOverride": "episodic",
    "selfManagedConfiguration": "self_managed",
}
#: Behaviour -> (output override type, member prefix of the override shapes).
OUTPUT = {
    "semantic": ("SEMANTIC_OVERRIDE", "semantic"),
    "summary": ("SUMMARY_OVERRIDE", "summary"),
    "user_preference": ("USER_PREFERENCE_OVERRIDE", "userPreference"),
    "episodic": ("EPISODIC_OVERRIDE", "episodic"),
}


def _template(data: JSON) -> str | None:
    for member in ("namespaceTemplates", "namespaces"):
        values = data.get(member)
        if values:
            return str(values[0])
    return None


def _override(data: JSON | None, template: bool = False) -> PromptOverride | None:
    if not data:
        return None
    return PromptOverride(
        data["appendToPrompt"], data["modelId"], _template(data) if template else None
    )


def _expiry(data: JSON | None) -> int | None:
    if not data:
        return None
    if data.get("action") == "REMOVE":
        return REMOVE
    return int(data["recordExpiryDurationDays"])


def spec(item: JSON) -> StrategySpec:
    """A strategy to add, from one member of `memoryStrategies` / `addMemoryStrategies`."""
    ((kind, data),) = item.items()
    strategy_type = TYPES[kind]
    base = None
    extraction = consolidation = reflection = None
    self_managed = None
    reflection_template = None
    if strategy_type is StrategyType.EPISODIC:
        reflection_template = _template(data.get("reflectionConfiguration") or {})
    configuration = data.get("configuration") or {}
    if configuration:
        ((name, override),) = configuration.items()
        base = OVERRIDES[name]
        if base == "self_managed":
            self_managed = dict(override)
        else:
            extraction = _override(override.get("extraction"))
            consolidation = _override(override.get("consolidation"))
            reflection = _override(override.get("reflection"), template=True)
    return StrategySpec(
        name=data["name"],
        type=strategy_type,
        template=_template(data),
        description=data.get("description"),
        base=base,
        extraction=extraction,
        consolidation=consolidation,
        reflection=reflection,
        reflection_template=reflection_template,
        self_managed=self_managed,
        record_schema=data.get("memoryRecordSchema"),
        record_expiry=_expiry(data.get("recordExpirySpecification")),
    )


def _one(union: JSON | None) -> JSON | None:
    """The value of a one-member union (or of its nested custom union)."""
    if not union:
        return None
    ((_, value),) = union.items()
    if isinstance(value, dict) and len(value) == 1:
        ((_, inner),) = value.items()
        if isinstance(inner, dict) and "appendToPrompt" in inner:
            return inner
    return value if isinstance(value, dict) else None


def change(item: JSON) -> StrategyChange:
    """A strategy change, from one member of `modifyMemoryStrategies`."""
    configuration = item.get("configuration") or {}
    reflection = None
    reflection_template = None
    reflection_union = configuration.get("reflection") or {}
    if "customReflectionConfiguration" in reflection_union:
        reflection = _override(_one(reflection_union), template=True)
    elif "episodicReflectionConfiguration" in reflection_union:
        reflection_template = _template(reflection_union["episodicReflectionConfiguration"])
    return StrategyChange(
        id=item["memoryStrategyId"],
        description=item.get("description"),
        template=_template(item),
        extraction=_override(_one(configuration.get("extraction"))),
        consolidation=_override(_one(configuration.get("consolidation"))),
        reflection=reflection,
        reflection_template=reflection_template,
        self_managed=configuration.get("selfManagedConfiguration"),
        record_schema=item.get("memoryRecordSchema"),
        record_expiry=_expiry(item.get("recordExpirySpecification")),
    )


def _prompt(value: PromptOverride) -> JSON:
    return {"appendToPrompt": value.append, "modelId": value.model_id}


def configuration(strategy: Strategy) -> JSON | None:
    """The `configuration` output member of a strategy, if it has one."""
    if strategy.type is StrategyType.EPISODIC and strategy.reflection_template:
        templates = [strategy.reflection_template]
        return {
            "reflection": {
                "episodicReflectionConfiguration": {
                    "namespaces": templates,
                    "namespaceTemplates": templates,
                }
            }
        }
    if strategy.type is not StrategyType.CUSTOM or strategy.base is None:
        return None
    if strategy.base == "self_managed":
        managed = dict(strategy.self_managed or {})
        return {
            "type": "SELF_MANAGED",
            "selfManagedConfiguration": {
                "triggerConditions": managed.get("triggerConditions") or [],
                "invocationConfiguration": managed.get("invocationConfiguration") or {},
                "historicalContextWindowSize": managed.get("historicalContextWindowSize", 4),
            },
        }
    kind, prefix = OUTPUT[strategy.base]
    out: JSON = {"type": kind}
    if strategy.extraction is not None:
        out["extraction"] = {
            "customExtractionConfiguration": {
                f"{prefix}ExtractionOverride": _prompt(strategy.extraction)
            }
        }
    if strategy.consolidation is not None:
        out["consolidation"] = {
            "customConsolidationConfiguration": {
                f"{prefix}ConsolidationOverride": _prompt(strategy.consolidation)
            }
        }
    if strategy.reflection is not None:
        reflection = _prompt(strategy.reflection)
        if strategy.reflection.template:
            reflection["namespaces"] = [strategy.reflection.template]
            reflection["namespaceTemplates"] = [strategy.reflection.template]
        out["reflection"] = {
            "customReflectionConfiguration": {"episodicReflectionOverride": reflection}
        }
    return out


def output(strategy: Strategy) -> JSON:
    """One item of a memory's `strategies`."""
    return {
        "strategyId": strategy.id,
        "name": strategy.name,
        "description": strategy.description,
        "configuration": configuration(strategy),
        "type": strategy.type.value,
        "namespaces": [strategy.template],
        "namespaceTemplates": [strategy.template],
        "createdAt": strategy.created_at,
        "updatedAt": strategy.updated_at,
        "status": strategy.status,
        "memoryRecordSchema": strategy.record_schema,
        "recordExpiryDurationDays": strategy.record_expiry_days,
    }
