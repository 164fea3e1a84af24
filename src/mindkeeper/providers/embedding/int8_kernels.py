"""onnxruntime's int8 matrix kernels in numpy: the checks behind the packaged int8 graph.

``MatMulInteger`` with uint8 activations and int8 weights runs on one of MLAS's kernels,
chosen by the CPU:

* AVX2, and AVX-512 without VNNI: ``vpmaddubsw`` multiplies the bytes and adds each pair
  of neighbouring products along K into a *saturating* int16, then widens to int32;
* AVX-VNNI, AVX-512 VNNI, AMX, SSE and ARM NEON accumulate the products in int32.

So a graph gives the same integers on every CPU only when no pair sum can pass 32,767.
``saturating_matmul`` computes what the AVX2 kernel returns, and ``avx2_evaluator`` runs a
whole graph that way with onnx's reference evaluator (``onnx`` is a build-time dependency,
imported on use), which shows what an AVX2-only processor embeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    import onnx
    from onnx.reference import ReferenceEvaluator

INT16_MAX = 32767
UINT8_MAX = 255
INT32_MAX = 2**31 - 1
_ROWS_PER_CHUNK = 16  # bounds the (rows, K / 2, N) int32 temporary


@dataclass
class PairCount:
    """How many int16 pair sums a run computed, and how many of them saturated."""

    pairs: int = 0
    saturated: int = 0


def worst_pair_sum(weights: NDArray[np.integer[Any]]) -> int:
    """Largest ``|a0 * w0 + a1 * w1|`` for uint8 ``a`` and any two of these int8 weights."""
    return 2 * UINT8_MAX * int(np.abs(weights.astype(np.int32)).max(initial=0))


def worst_accumulator(weights: NDArray[np.integer[Any]]) -> int:
    """Largest ``|sum_k a_k * w_kn|`` over uint8 ``a``: what an int32 accumulator must hold."""
    return UINT8_MAX * int(np.abs(weights.astype(np.int64)).sum(axis=0).max(initial=0))


def saturating_matmul(
    a: NDArray[np.uint8], b: NDArray[np.int8], count: PairCount | None = None
) -> NDArray[np.int32]:
    """``a @ b`` as MLAS's AVX2 u8s8 kernel computes it: pair sums clipped to int16.

    ``a`` is ``(..., K)`` uint8, ``b`` is ``(K, N)`` int8. The kernel packs four K values per
    32-bit lane and ``vpmaddubsw`` adds products ``2j`` and ``2j + 1``; an odd K is padded
    with zeros.
    """
    lead, k = a.shape[:-1], a.shape[-1]
    rows = a.reshape(-1, k).astype(np.int32)
    weights = b.astype(np.int32)
    if k % 2:
        rows = np.pad(rows, ((0, 0), (0, 1)))
        weights = np.pad(weights, ((0, 1), (0, 0)))
    even, odd = weights[None, 0::2, :], weights[None, 1::2, :]
    out = np.empty((rows.shape[0], weights.shape[1]), dtype=np.int32)
    for start in range(0, rows.shape[0], _ROWS_PER_CHUNK):
        chunk = rows[start : start + _ROWS_PER_CHUNK]
        pairs = chunk[:, 0::2, None] * even + chunk[:, 1::2, None] * odd
        clipped = np.clip(pairs, -INT16_MAX - 1, INT16_MAX)
        if count is not None:
            count.pairs += pairs.size
            count.saturated += int(np.count_nonzero(clipped != pairs))
        out[start : start + _ROWS_PER_CHUNK] = clipped.sum(axis=1, dtype=np.int32)
    return out.reshape(*lead, weights.shape[1])


def avx2_evaluator(model: onnx.ModelProto, count: PairCount | None = None) -> ReferenceEvaluator:
    """onnx's reference evaluator for ``model``, with ``MatMulInteger`` as AVX2 computes it."""
    from onnx.reference import ReferenceEvaluator
    from onnx.reference.op_run import OpRun

    def run(
        self: OpRun,
        a: NDArray[np.uint8],
        b: NDArray[np.int8],
        a_zero_point: NDArray[Any] | None = None,
        b_zero_point: NDArray[Any] | None = None,
    ) -> tuple[NDArray[np.int32]]:
        for zero_point in (a_zero_point, b_zero_point):
            if zero_point is not None and np.any(zero_point):
                raise NotImplementedError("only MatMulInteger without zero points is emulated")
        if a.dtype != np.uint8 or b.dtype != np.int8:
            raise NotImplementedError(f"only u8 x s8 is emulated, not {a.dtype} x {b.dtype}")
        return (saturating_matmul(a, b, count),)

    op = type("MatMulInteger", (OpRun,), {"op_domain": "", "_run": run})
    return ReferenceEvaluator(model, new_ops=[op])
