"""Embeddings from any OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, vLLM, TEI).

Texts go in batches; rows come back ordered by their `index` and are L2-normalised here, so
cosine distance means the same for every provider. The vectors are recorded under `model_id`
(the model name unless configured otherwise): set the same id on two servers only when they
serve the very same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mindkeeper.core.ports.models import MalformedOutput, UsageMeter
from mindkeeper.providers.llm.base import HttpModelClient, HttpPolicy

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAICompatEmbedder:
    """`Embedder` port over `POST {base_url}/embeddings`."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        dimensions: int | None = None,
        model_id: str | None = None,
        batch_size: int = 64,
        policy: HttpPolicy | None = None,
        meter: UsageMeter | None = None,
    ) -> None:
        self.model = model
        self.model_id: str = model_id or model
        self.dimensions = dimensions
        #: Known after the first answer unless `dimensions` was given.
        self.dim: int = dimensions or 0
        self.batch_size = max(1, batch_size)
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = HttpModelClient(
            provider="openai-compatible embeddings",
            model_id=self.model_id,
            base_url=base_url,
            headers=headers,
            policy=policy or HttpPolicy(),
            meter=meter or UsageMeter(),
        )

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Return float32 `(len(texts), dim)` unit rows."""
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        items = list(texts)
        parts = [
            await self._batch(items[i : i + self.batch_size])
            for i in range(0, len(items), self.batch_size)
        ]
        if not parts:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.vstack(parts)

    async def _batch(self, texts: list[str]) -> NDArray[np.float32]:
        body: dict[str, Any] = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.dimensions:
            body["dimensions"] = self.dimensions
        data = await self.http.post_json("/embeddings", body)
        rows = data.get("data")
        if not isinstance(rows, list) or len(rows) != len(texts):
            raise MalformedOutput(
                f"embeddings {self.model_id}: expected {len(texts)} rows in `data`"
            )
        try:
            ordered = sorted(rows, key=lambda r: int(r.get("index", 0)))
            matrix = np.asarray([r["embedding"] for r in ordered], dtype=np.float32)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MalformedOutput(f"embeddings {self.model_id}: malformed `data` rows") from exc
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise MalformedOutput(f"embeddings {self.model_id}: vectors have no dimension")
        if self.dim and matrix.shape[1] != self.dim:
            raise MalformedOutput(
                f"embeddings {self.model_id}: got {matrix.shape[1]} dimensions, expected {self.dim}"
            )
        self.dim = int(matrix.shape[1])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        unit: NDArray[np.float32] = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
        usage = data.get("usage") or {}
        self.http.meter.record(self.model_id, int(usage.get("prompt_tokens") or 0), 0)
        return unit

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.http.aclose()
