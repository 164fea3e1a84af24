"""Benchmark the packaged int8 MiniLM embedder: size, load time, throughput, latency, quality.

Run: ``python bench/bench_embedder.py [--threads N] [--repeats R] [--baseline DIR]``. Numbers
are the best of ``R`` runs (shared machines are noisy). Quality compares the int8 vectors with
the fp32 reference vectors in ``tests/providers/fixtures/minilm_reference.json``, on this CPU
and, when ``onnx`` is installed, with the AVX2 int8 kernel emulated (what a CPU without VNNI
computes). ``--baseline`` names another model directory (e.g. an earlier build, extracted with
``git show``): both are then timed in alternating rounds and compared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mindkeeper.providers.embedding import int8_kernels
from mindkeeper.providers.embedding.local import ASSETS_DIR, LocalOnnxEmbedder, Manifest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "providers" / "fixtures" / "minilm_reference.json"

SHORT = [  # 8-10 words each, like chat memories
    "My sister is moving to Canada next spring for work.",
    "Remind me to water the plants every Sunday morning.",
    "The quarterly report is due at the end of June.",
    "I prefer green tea over coffee in the afternoon.",
    "Our cat keeps knocking glasses off the kitchen table.",
    "He started learning Spanish because of his new job.",
    "The database migration failed because of a missing index.",
    "We should book the hotel before prices go up.",
    "She runs five kilometres every morning before breakfast.",
    "The user dislikes long meetings without a clear agenda.",
    "Tomorrow's flight to Rome leaves at seven fifteen.",
    "My laptop battery drains quickly when I run Docker.",
    "The kids want pizza for dinner on Friday night.",
    "Please summarise the last three messages in this thread.",
    "The contract renewal needs approval from the legal team.",
    "I lost my keys somewhere between the gym and home.",
]
LONG = " ".join(
    [
        "The memory server stores every message of a conversation, splits long documents into",
        "chunks, embeds each chunk with a small sentence encoder and keeps the vectors next to",
        "the text so that later questions can be answered from the most similar passages.",
    ]
    * 5
)  # about 200 words


def _load_seconds(model_dir: Path, threads: int) -> float:
    """Fresh interpreter: import, construct and load the embedder (sha256 check included)."""
    code = (
        "import time; t = time.perf_counter()\n"
        "from mindkeeper.providers.embedding.local import LocalOnnxEmbedder\n"
        "from pathlib import Path\n"
        f"LocalOnnxEmbedder(Path({str(model_dir)!r}), intra_op_threads={threads}).load()\n"
        "print(time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout)


def _best_seconds(fn: Callable[[], object], repeats: int, inner: int) -> float:
    """Best mean wall time of ``inner`` calls over ``repeats`` rounds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - start) / inner)
    return best


def _cos_line(vectors: np.ndarray, ref: np.ndarray) -> str:
    """Row-wise cosine against the reference: min, mean, max."""
    cos = (
        (vectors * ref).sum(axis=1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(vectors, axis=1)
    )
    return f"min {cos.min():.4f} mean {cos.mean():.4f} max {cos.max():.4f}"


def _quality(model_dir: Path, embedder: LocalOnnxEmbedder) -> None:
    """Cosine to the fp32 reference on this CPU and with AVX2's int8 kernel emulated."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    sentences = fixture["sentences"]
    ref = np.array([item["vector"] for item in sentences], dtype=np.float32)
    got = embedder.embed_sync([item["text"] for item in sentences])
    print(f"  {embedder.model_id} vs fp32 over {len(sentences)} fixture sentences:")
    print(f"    this CPU:       {_cos_line(got, ref)}")
    try:
        import onnx
    except ImportError:
        print("    AVX2 emulated:  needs onnx (the build-model extra)")
        return
    model = onnx.load(str(model_dir / embedder.manifest.onnx_file))
    if not any(node.op_type == "MatMulInteger" for node in model.graph.node):
        return
    count = int8_kernels.PairCount()
    evaluator = int8_kernels.avx2_evaluator(model, count)
    rows = []
    for item in sentences:
        ids = np.array([item["input_ids"]], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        rows.append(evaluator.run(["sentence_embedding"], feeds)[0])
    emulated = np.concatenate(rows).astype(np.float32)
    print(
        f"    AVX2 emulated:  {_cos_line(emulated, ref)} "
        f"({count.saturated} of {count.pairs} int16 pair sums saturated)"
    )


def _compare(
    new: LocalOnnxEmbedder, old: LocalOnnxEmbedder, repeats: int, batch: list[str]
) -> None:
    """Time both embedders in alternating rounds (order flipped each round); print ratios."""
    rounds: dict[str, list[float]] = {"new": [], "old": []}
    longs: dict[str, list[float]] = {"new": [], "old": []}
    for embedder in (new, old):
        embedder.embed_sync(batch)  # warm-up
    pairs = [("new", new), ("old", old)]
    for round_ in range(max(4, 2 * repeats)):
        for name, embedder in pairs if round_ % 2 == 0 else pairs[::-1]:
            seconds = _best_seconds(lambda e=embedder: e.embed_sync(batch), 1, 10)
            rounds[name].append(len(batch) / seconds)
            longs[name].append(_best_seconds(lambda e=embedder: e.embed_sync([LONG]), 1, 3))
    ratios = [n / o for n, o in zip(rounds["new"], rounds["old"], strict=True)]
    print(f"A/B, {len(ratios)} alternating rounds (new {new.model_id}, old {old.model_id}):")
    for name in ("new", "old"):
        print(
            f"  {name}: batch of 32 {np.median(rounds[name]):.0f} sentences/s (median), "
            f"~200-word text {np.median(longs[name]) * 1e3:.1f} ms (median)"
        )
    long_ratio = np.median(longs["old"]) / np.median(longs["new"])
    print(
        f"  new/old throughput: median {np.median(ratios):.2f} "
        f"(rounds {min(ratios):.2f}-{max(ratios):.2f}); long text speed {long_ratio:.2f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print size, load time, b32 throughput, single/long latency, RSS and int8 quality."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=ASSETS_DIR)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None, help="model dir to compare with")
    args = parser.parse_args(argv)

    manifest = Manifest.read(args.model_dir)
    embedder = LocalOnnxEmbedder(args.model_dir, intra_op_threads=args.threads)
    threads = embedder.intra_op_threads
    print(f"model {embedder.model_id}, dim {embedder.dim}, intra-op threads {threads}")
    print(f"onnx file: {(args.model_dir / manifest.onnx_file).stat().st_size / 1e6:.1f} MB")
    load = min(_load_seconds(args.model_dir, threads) for _ in range(args.repeats))
    print(f"load (fresh interpreter, import + sha256 + session): {load:.2f} s")

    embedder.load()
    batch = (SHORT * 2)[:32]
    embedder.embed_sync(batch)  # warm-up
    b32 = _best_seconds(lambda: embedder.embed_sync(batch), args.repeats, 20)
    print(f"batch of 32 short sentences: {32 / b32:.0f} sentences/s ({b32 * 1e3:.1f} ms/batch)")

    latencies = []
    for _ in range(args.repeats):
        for text in SHORT * 5:
            start = time.perf_counter()
            embedder.embed_sync([text])
            latencies.append(time.perf_counter() - start)
    print(f"single sentence: p50 {np.median(latencies) * 1e3:.2f} ms")
    long_s = _best_seconds(lambda: embedder.embed_sync([LONG]), args.repeats, 5)
    print(f"one ~200-word text: {long_s * 1e3:.1f} ms")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss_mb:.0f} MB")

    print("quality")
    _quality(args.model_dir, embedder)
    if args.baseline is not None:
        baseline = LocalOnnxEmbedder(args.baseline, intra_op_threads=args.threads)
        size = (args.baseline / baseline.manifest.onnx_file).stat().st_size / 1e6
        print(f"baseline {baseline.model_id}: onnx file {size:.1f} MB")
        _quality(args.baseline, baseline)
        _compare(embedder, baseline, args.repeats, batch)
    print(f"(machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
