"""Composition root, model part: settings -> embedder, chat model per role, policies.

Role resolution (docs/models.md): the deriver uses `deriver_*`, else `chat_*`; summaries use
`summary_*`, else the deriver's, else `chat_*`; the dialectic uses `dialectic_*`, else
`chat_*`. Within a role, a field left unset is inherited from the fallback, except that the base
URL and key are not inherited across providers (an Anthropic role does not get an OpenAI key).
Roles with equal settings share one client.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from mindkeeper.config import Settings, default_data_dir
from mindkeeper.core.ports import Embedder
from mindkeeper.core.ports.jobs import DeriverPolicy
from mindkeeper.core.ports.models import ChatModel, DialecticPolicy, ModelRoles, UsageMeter
from mindkeeper.errors import StartupError
from mindkeeper.providers.llm import ChatModelSpec, build_chat_model
from mindkeeper.providers.llm.base import HttpPolicy


def http_policy(settings: Settings) -> HttpPolicy:
    """Timeouts and retries of every provider call."""
    return HttpPolicy(
        timeout=settings.model_timeout_seconds,
        max_retries=settings.model_max_retries,
        retry_base=settings.model_retry_base_seconds,
        retry_max=settings.model_retry_max_seconds,
    )


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


#: Each role's settings prefixes, from its outermost fallback (after `chat_`) to itself.
_ROLE_CHAIN = {
    "deriver": ("deriver",),
    "summary": ("deriver", "summary"),
    "dialectic": ("dialectic",),
}


def role_spec(settings: Settings, role: str) -> ChatModelSpec | None:
    """Resolve the model spec of a role through its fallbacks; None when the role is off."""
    provider: str = settings.chat_provider
    model = settings.chat_model
    base_url = settings.chat_base_url
    key = _secret(settings.chat_api_key)
    for prefix in _ROLE_CHAIN[role]:
        own_provider = getattr(settings, f"{prefix}_provider") or provider
        same = own_provider == provider
        provider = own_provider
        model = getattr(settings, f"{prefix}_model") or model
        base_url = getattr(settings, f"{prefix}_base_url") or (base_url if same else None)
        key = _secret(getattr(settings, f"{prefix}_api_key")) or (key if same else None)
    if not model or provider not in ("openai", "anthropic"):
        return None
    return ChatModelSpec(provider, model, base_url, key)  # type: ignore[arg-type]


def build_models(settings: Settings, meter: UsageMeter) -> ModelRoles:
    """Build the chat model of every role from the settings."""
    policy = http_policy(settings)
    built: dict[ChatModelSpec, ChatModel] = {}
    roles: dict[str, ChatModel | None] = {}
    for role in ("deriver", "summary", "dialectic"):
        spec = role_spec(settings, role)
        if spec is None:
            roles[role] = None
            continue
        if spec not in built:
            built[spec] = build_chat_model(spec, policy, meter)
        roles[role] = built[spec]
    return ModelRoles(**roles)


def model_cache_dir(settings: Settings) -> Path:
    """Where built models are cached (`<data dir>/models` unless configured)."""
    return settings.model_cache_dir or default_data_dir() / "models"


def build_embedder(settings: Settings, meter: UsageMeter | None = None) -> Embedder | None:
    """Return the configured embedder (the packaged local int8 model by default)."""
    if settings.embedder == "none":
        return None
    if settings.embedder == "openai":
        from mindkeeper.providers.embedding.openai_compat import (
            DEFAULT_BASE_URL,
            OpenAICompatEmbedder,
        )

        if not settings.embedding_model:
            raise StartupError(
                "MINDKEEPER_EMBEDDER=openai needs MINDKEEPER_EMBEDDING_MODEL "
                "(e.g. text-embedding-3-small, or nomic-embed-text on Ollama)"
            )
        return OpenAICompatEmbedder(
            settings.embedding_model,
            base_url=settings.embedding_base_url or DEFAULT_BASE_URL,
            api_key=_secret(settings.embedding_api_key),
            dimensions=settings.embedding_dimensions,
            model_id=settings.embedding_model_id,
            batch_size=settings.embedding_batch_size,
            policy=http_policy(settings),
            meter=meter,
        )
    # onnxruntime reads this once, at first import: set it before anything imports it.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    if settings.embedder == "local-fp32":
        from mindkeeper.providers.embedding.fp32 import load_fp32_embedder

        return load_fp32_embedder(
            model_cache_dir(settings), intra_op_threads=settings.embedder_threads
        )
    from mindkeeper.providers.embedding.local import LocalOnnxEmbedder

    return LocalOnnxEmbedder(intra_op_threads=settings.embedder_threads)


def build_deriver_policy(settings: Settings) -> DeriverPolicy:
    """The queue and deriver knobs."""
    return DeriverPolicy(
        concurrency=settings.deriver_concurrency,
        poll_seconds=settings.worker_poll_seconds,
        max_attempts=settings.deriver_max_attempts,
        retry_base=timedelta(seconds=settings.deriver_retry_base_seconds),
        retry_max=timedelta(seconds=settings.deriver_retry_max_seconds),
        lease=timedelta(seconds=settings.deriver_lease_seconds),
        stall_after=timedelta(seconds=settings.deriver_stall_seconds),
        shutdown_grace_seconds=settings.deriver_shutdown_grace_seconds,
        done_retention=timedelta(seconds=settings.deriver_done_retention_seconds),
        short_summary_every=settings.deriver_short_summary_every,
        long_summary_every=settings.deriver_long_summary_every,
        dedup_distance=settings.deriver_dedup_distance,
        context_messages=settings.deriver_context_messages,
        batch_max_messages=settings.deriver_batch_max_messages,
        batch_max_tokens=settings.deriver_batch_max_tokens,
        dream_enabled=settings.dream_enabled,
        dream_threshold=settings.dream_document_threshold,
        dream_idle=timedelta(seconds=settings.dream_idle_seconds),
        dream_min_interval=timedelta(seconds=settings.dream_min_interval_seconds),
    )


def build_dialectic_policy(settings: Settings) -> DialecticPolicy:
    """The dialectic chat knobs."""
    return DialecticPolicy(
        max_facts=settings.dialectic_max_facts,
        fact_max_distance=settings.dialectic_fact_max_distance,
        context_messages=settings.dialectic_context_messages,
        max_tokens=settings.dialectic_max_tokens,
    )


async def close_models(models: ModelRoles, embedder: object) -> None:
    """Close the HTTP clients of the models (and of an HTTP embedder)."""
    for model in models.distinct():
        await model.aclose()
    closer = getattr(embedder, "aclose", None)
    if closer is not None:
        await closer()
