"""Plain-numpy forward pass of all-MiniLM-L6-v2, the ground truth for the ONNX graphs.

Computes in float64 (exact erf GELU) from the safetensors weights and returns float32
L2-normalised mean-pooled sentence embeddings. Slow; meant for building and checking.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mindkeeper.providers.embedding.minilm_graph import MINILM_L6, BertConfig

_erf = np.frompyfunc(math.erf, 1, 1)

Weights = Mapping[str, NDArray[np.float32]]
#: Called with a linear layer's prefix and its input, before the layer runs.
Observer = Callable[[str, NDArray[np.float64]], None]


def _gelu(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Exact GELU: ``x * 0.5 * (1 + erf(x / sqrt(2)))``."""
    erf = np.asarray(_erf(x / math.sqrt(2.0)), dtype=np.float64)
    out: NDArray[np.float64] = x * 0.5 * (1.0 + erf)
    return out


def _layer_norm(x: NDArray[np.float64], w: Weights, prefix: str, eps: float) -> NDArray[np.float64]:
    """LayerNorm over the last axis with the weights under ``prefix``."""
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: NDArray[np.float64] = (x - mean) / np.sqrt(var + eps) * w[f"{prefix}.weight"]
    return out + w[f"{prefix}.bias"]


def _linear(
    x: NDArray[np.float64], w: Weights, prefix: str, observe: Observer | None = None
) -> NDArray[np.float64]:
    """``x @ W.T + b`` for a torch ``Linear`` stored under ``prefix``."""
    if observe is not None:
        observe(prefix, x)
    weight = w[f"{prefix}.weight"].astype(np.float64)
    out: NDArray[np.float64] = x @ weight.T + w[f"{prefix}.bias"]
    return out


def _softmax(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Numerically stable softmax over the last axis."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: NDArray[np.float64] = e / e.sum(axis=-1, keepdims=True)
    return out


def _layer(
    x: NDArray[np.float64],
    bias: NDArray[np.float64],
    w: Weights,
    p: str,
    cfg: BertConfig,
    observe: Observer | None = None,
) -> NDArray[np.float64]:
    """One post-LN BERT encoder layer."""
    b, s, _ = x.shape
    d = cfg.hidden // cfg.heads

    def heads(name: str) -> NDArray[np.float64]:
        y = _linear(x, w, f"{p}.attention.self.{name}", observe)
        return y.reshape(b, s, cfg.heads, d).transpose(0, 2, 1, 3)

    q, k, v = heads("query"), heads("key"), heads("value")
    probs = _softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias)
    context = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, cfg.hidden)
    attn = _linear(context, w, f"{p}.attention.output.dense", observe)
    x = _layer_norm(attn + x, w, f"{p}.attention.output.LayerNorm", cfg.layer_norm_eps)
    h = _gelu(_linear(x, w, f"{p}.intermediate.dense", observe))
    out = _linear(h, w, f"{p}.output.dense", observe)
    return _layer_norm(out + x, w, f"{p}.output.LayerNorm", cfg.layer_norm_eps)


def forward(
    weights: Weights,
    input_ids: ArrayLike,
    attention_mask: ArrayLike,
    cfg: BertConfig = MINILM_L6,
    observe: Observer | None = None,
) -> NDArray[np.float32]:
    """Embed tokenised sentences: returns float32 ``(batch, hidden)`` unit-norm rows."""
    ids = np.asarray(input_ids, dtype=np.int64)
    mask = np.asarray(attention_mask, dtype=np.float64)
    seq = ids.shape[1]
    emb = weights["embeddings.word_embeddings.weight"][ids].astype(np.float64)
    emb = emb + weights["embeddings.position_embeddings.weight"][:seq]
    emb = emb + weights["embeddings.token_type_embeddings.weight"][0]
    x = _layer_norm(emb, weights, "embeddings.LayerNorm", cfg.layer_norm_eps)
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e30)
    for idx in range(cfg.layers):
        x = _layer(x, bias, weights, f"encoder.layer.{idx}", cfg, observe)
    summed = (x * mask[:, :, None]).sum(axis=1)
    pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
    result: NDArray[np.float32] = (pooled / norm).astype(np.float32)
    return result


def linear_input_absmax(
    weights: Weights, token_ids: Sequence[Sequence[int]], cfg: BertConfig = MINILM_L6
) -> dict[str, NDArray[np.float64]]:
    """Largest ``|input|`` of every linear layer, per input channel, over tokenised texts.

    Each text runs on its own, so padding never counts. Keys are the layers' prefixes.
    """
    absmax: dict[str, NDArray[np.float64]] = {}

    def observe(prefix: str, x: NDArray[np.float64]) -> None:
        seen = np.abs(x).reshape(-1, x.shape[-1]).max(axis=0)
        absmax[prefix] = np.maximum(absmax[prefix], seen) if prefix in absmax else seen

    for ids in token_ids:
        row = np.asarray([ids], dtype=np.int64)
        forward(weights, row, np.ones_like(row), cfg, observe)
    return absmax
