"""Benchmark the packaged int8 MiniLM embedder: size, load time, throughput, latency, quality.

Run: ``python bench/bench_embedder.py [--threads N] [--repeats R]``. Numbers are the best of
``R`` runs (shared machines are noisy). Quality compares the int8 vectors with the fp32
reference vectors in ``tests/providers/fixtures/minilm_reference.json``.
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


def main(argv: Sequence[str] | None = None) -> int:
    """Print size, load time, b32 throughput, single/long latency, RSS and int8 quality."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=ASSETS_DIR)
    parser.add_argument("--threads", type=int, default=None, help="intra-op threads")
    parser.add_argument("--repeats", type=int, default=3)
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

    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    texts = [item["text"] for item in fixture["sentences"]]
    ref = np.array([item["vector"] for item in fixture["sentences"]], dtype=np.float32)
    cos = (embedder.embed_sync(texts) * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    print(
        f"int8 vs fp32 reference cos over {len(texts)} fixture sentences: "
        f"min {cos.min():.4f} mean {cos.mean():.4f} max {cos.max():.4f}"
    )
    print(f"(machine: {os.cpu_count()} CPUs, python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
