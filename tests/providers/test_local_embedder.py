"""Tests for the packaged int8 all-MiniLM-L6-v2 embedder (``LocalOnnxEmbedder``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tokenizers import Tokenizer

from mindkeeper.providers.embedding import int8_kernels, local
from mindkeeper.providers.embedding.local import (
    ASSETS_DIR,
    AssetError,
    LocalOnnxEmbedder,
    Manifest,
    configure_tokenizer,
    tokenize,
)
from mindkeeper.providers.embedding.minilm_graph import WeightsError, find_weights

FIXTURE = Path(__file__).parent / "fixtures" / "minilm_reference.json"
# Cosine floors of the int8 vectors against fp32, valid on every CPU. No int8 kernel can
# saturate (weights within +-64, checked below), so every processor computes the same
# integers; they differ only in the float rounding of the other operators, which can move a
# uint8 activation by one level. Measured on the fixture: min 0.9932 / mean 0.9978 with
# onnxruntime on an AVX-512 VNNI + AMX CPU, min 0.9936 / mean 0.9983 with the AVX2 kernel
# emulated (float rounding moved single vectors by up to 0.0014 between the two). The floor
# leaves five times that much for other CPUs and onnxruntime versions, and still fails the
# 0.930 that saturating kernels gave a full-range int8 graph on AVX2.
MIN_COS, MEAN_COS = 0.985, 0.995

TRIPLES = [  # (anchor, paraphrase, unrelated)
    (
        "How do I reset my password?",
        "I forgot my login credentials and need new ones.",
        "The weather in Lisbon is sunny today.",
    ),
    ("The user is vegetarian.", "She doesn't eat meat or fish.", "He drives a red sports car."),
    (
        "My flight to Tokyo was cancelled.",
        "The airline called off my trip to Japan.",
        "I bought fresh tomatoes at the market.",
    ),
    (
        "He is feeling very anxious about the exam.",
        "He's nervous about the upcoming test.",
        "The server crashed after the deployment.",
    ),
    (
        "Our team meeting moved to Thursday.",
        "The staff get-together has been rescheduled for later in the week.",
        "Penguins live in the southern hemisphere.",
    ),
]

DOCS = [
    "Alice is allergic to peanuts.",
    "Bob works as a nurse on night shifts at the city hospital.",
    "The user's daughter Mia was born in March 2019.",
    "Carol plays the violin in a community orchestra.",
    "The production database runs on PostgreSQL 16.",
    "Dave adopted a golden retriever puppy last spring.",
    "The user is saving money to buy a house next year.",
    "Erin prefers trains to planes because she is afraid of flying.",
]
QUERIES = [  # (query sharing almost no words with its target, index of the target in DOCS)
    ("Which snacks could trigger a bad reaction for her?", 0),
    ("Who cares for patients in a medical clinic overnight?", 1),
    ("How old is the kid?", 2),
    ("Which stringed instrument does someone practise in an ensemble?", 3),
    ("What SQL engine powers our live data store?", 4),
    ("Who has a new dog?", 5),
    ("Is anyone putting aside cash for a home purchase?", 6),
    ("Who avoids air travel out of fear?", 7),
]


@pytest.fixture(scope="module")
def embedder() -> LocalOnnxEmbedder:
    """Load the packaged embedder once for the module."""
    embedder = LocalOnnxEmbedder()
    embedder.load()
    return embedder


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    """Read the fp32 reference vectors written by scripts/build_embedder.py."""
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def _copy_assets(dest: Path) -> Manifest:
    """Copy manifest and tokenizer (not the model) into ``dest``."""
    manifest = Manifest.read(ASSETS_DIR)
    for name in (local.MANIFEST_NAME, manifest.tokenizer_file):
        shutil.copyfile(ASSETS_DIR / name, dest / name)
    return manifest


def test_identity(embedder: LocalOnnxEmbedder) -> None:
    assert embedder.model_id == "all-MiniLM-L6-v2:int8-w7"  # not the old ":int8" vectors
    assert embedder.dim == 384


def test_tokenizer_matches_reference(reference: dict[str, Any]) -> None:
    manifest = Manifest.read(ASSETS_DIR)
    tokenizer = Tokenizer.from_file(str(ASSETS_DIR / manifest.tokenizer_file))
    pad_id = configure_tokenizer(tokenizer, manifest.max_seq_length)
    for item in reference["sentences"]:
        ids, mask = tokenize(tokenizer, [item["text"]], pad_id)
        assert ids[0].tolist() == item["input_ids"]
        assert mask.all()


def _reference_vectors(reference: dict[str, Any]) -> np.ndarray:
    return np.array([item["vector"] for item in reference["sentences"]], dtype=np.float32)


def _assert_close_to_reference(got: np.ndarray, reference: dict[str, Any]) -> None:
    expected = _reference_vectors(reference)
    cos = (got * expected).sum(axis=1) / np.linalg.norm(expected, axis=1)
    assert cos.min() >= MIN_COS, cos
    assert cos.mean() >= MEAN_COS, cos


async def test_int8_close_to_fp32_reference(
    embedder: LocalOnnxEmbedder, reference: dict[str, Any]
) -> None:
    """On the CPU running the test, whichever int8 kernel onnxruntime picks for it."""
    texts = [item["text"] for item in reference["sentences"]]
    _assert_close_to_reference(await embedder.embed(texts), reference)


def _packaged_graph() -> Any:
    import onnx  # a test dependency: its absence is a failure, not a skip

    return onnx.load(str(ASSETS_DIR / Manifest.read(ASSETS_DIR).onnx_file))


def _matmul_integer_weights(model: Any) -> list[np.ndarray]:
    """The int8 weight matrix of every MatMulInteger node, after checking the node's form."""
    from onnx import numpy_helper

    initializers = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producers = {out: node for node in model.graph.node for out in node.output}
    weights = []
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        assert len(node.input) == 2, "zero points would change what the kernels add"
        activation = producers[node.input[0]]
        assert activation.op_type == "Cast"
        to = {attr.name: attr.i for attr in activation.attribute}["to"]
        assert to == 2  # TensorProto.UINT8: activations 0..255
        weight = initializers[node.input[1]]
        assert weight.dtype == np.int8 and weight.ndim == 2
        weights.append(weight)
    return weights


def test_no_int8_kernel_can_saturate() -> None:
    """Every weight is within +-64: no uint8 x int8 pair sum passes int16 (AVX2's vpmaddubsw),
    and no dot product passes int32 (VNNI, AMX, NEON), whatever the activations."""
    weights = _matmul_integer_weights(_packaged_graph())
    assert len(weights) == 6 * 4  # q/k/v, attention output, intermediate, output per layer
    for weight in weights:
        assert int(np.abs(weight.astype(np.int32)).max()) <= 64
        assert int8_kernels.worst_pair_sum(weight) <= int8_kernels.INT16_MAX
        assert int8_kernels.worst_accumulator(weight) <= int8_kernels.INT32_MAX


def test_saturating_matmul_models_vpmaddubsw() -> None:
    a = np.array([[255, 255, 255, 0, 3]], dtype=np.uint8)
    full = np.array([[127], [127], [127], [-128], [1]], dtype=np.int8)
    # pairs (0, 1), (2, 3), (4, pad): 64,770 saturates to 32,767; 32,385; 3.
    assert int8_kernels.saturating_matmul(a, full).tolist() == [[32767 + 32385 + 3]]
    reduced = np.array([[64], [64], [64], [-64], [1]], dtype=np.int8)
    exact = a.astype(np.int32) @ reduced.astype(np.int32)
    assert (int8_kernels.saturating_matmul(a, reduced) == exact).all()


def _embed_with(evaluator: Any, sentences: list[dict[str, Any]]) -> Any:
    """Embed tokenised fixture sentences, one by one, with an onnx reference evaluator."""
    rows = []
    for item in sentences:
        ids = np.array([item["input_ids"]], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        rows.append(evaluator.run(["sentence_embedding"], feeds)[0])
    return np.concatenate(rows).astype(np.float32)


def test_avx2_kernel_computes_exact_integers_and_the_same_quality(
    reference: dict[str, Any],
) -> None:
    """Over the graph's real activations, AVX2's saturating pair sums never clip, so an
    AVX2-only CPU gets the exact integer products and the same quality as any other."""
    count = int8_kernels.PairCount()
    evaluator = int8_kernels.avx2_evaluator(_packaged_graph(), count)
    got = _embed_with(evaluator, reference["sentences"])
    assert count.pairs > 0
    assert count.saturated == 0
    _assert_close_to_reference(got, reference)


def test_avx2_emulation_sees_saturation_of_full_range_weights(reference: dict[str, Any]) -> None:
    """The check above can fail: with weights over the whole int8 range (as the previous
    build had; here doubled, scales halved), the AVX2 kernel clips pair sums on the same
    activations and its vectors differ from those of exact kernels."""
    model = _packaged_graph()
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    weight_names = {n.input[1] for n in model.graph.node if n.op_type == "MatMulInteger"}
    scale_names = {name.replace(".weight_int8", ".weight_scale") for name in weight_names}
    assert len(scale_names) == len(weight_names) == 24
    for tensor in model.graph.initializer:
        array = numpy_helper.to_array(tensor)
        if tensor.name in weight_names:
            array = np.clip(array.astype(np.int32) * 2, -127, 127).astype(np.int8)
        elif tensor.name in scale_names:
            array = (array / 2).astype(np.float32)
        else:
            continue
        tensor.CopyFrom(numpy_helper.from_array(array, tensor.name))
    sentences = reference["sentences"][:2]
    count = int8_kernels.PairCount()
    avx2 = _embed_with(int8_kernels.avx2_evaluator(model, count), sentences)
    exact = _embed_with(ReferenceEvaluator(model), sentences)
    assert count.saturated > 0
    assert np.abs(avx2 - exact).max() > 1e-3


async def test_rows_are_unit_norm_float32(embedder: LocalOnnxEmbedder) -> None:
    texts = ["short", "a somewhat longer sentence about memory servers", "🙂 ünïcödé"]
    got = await embedder.embed(texts)
    assert got.shape == (3, 384)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(("anchor", "paraphrase", "unrelated"), TRIPLES)
async def test_paraphrase_beats_unrelated(
    embedder: LocalOnnxEmbedder, anchor: str, paraphrase: str, unrelated: str
) -> None:
    a, p, u = await embedder.embed([anchor, paraphrase, unrelated])
    assert float(a @ p) > float(a @ u) + 0.2


async def test_low_overlap_retrieval_ranks_target_first(embedder: LocalOnnxEmbedder) -> None:
    docs = await embedder.embed(DOCS)
    queries = await embedder.embed([q for q, _ in QUERIES])
    scores = queries @ docs.T
    for (query, target), row in zip(QUERIES, scores, strict=True):
        runner_up = np.max(np.delete(row, target))
        assert row[target] > runner_up + 0.05, (query, row.round(3).tolist())


async def test_batching_matches_one_by_one(embedder: LocalOnnxEmbedder) -> None:
    words = ["memory", "session", "peer", "note", "message", "summary", "vector", "index"]
    texts = [" ".join(words[: 1 + i % 8] * (1 + i // 8)) + f" #{i}" for i in range(70)]
    batched = await embedder.embed(texts)
    one_by_one = np.concatenate([await embedder.embed([text]) for text in texts])
    assert batched.shape == (70, 384)
    np.testing.assert_allclose(batched, one_by_one, rtol=0, atol=1e-5)
    assert not np.allclose(batched[0], batched[1])  # order kept, texts not collapsed


async def test_empty_input(embedder: LocalOnnxEmbedder) -> None:
    got = await embedder.embed([])
    assert got.shape == (0, 384)
    assert got.dtype == np.float32


def test_rejects_a_bare_string(embedder: LocalOnnxEmbedder) -> None:
    with pytest.raises(TypeError):
        embedder.embed_sync("hello")


def test_truncates_at_256_tokens(embedder: LocalOnnxEmbedder) -> None:
    words = ["apple", "river", "stone", "music", "garden", "window", "coffee", "paper"] * 50  # 400
    manifest = Manifest.read(ASSETS_DIR)
    tokenizer = Tokenizer.from_file(str(ASSETS_DIR / manifest.tokenizer_file))
    configure_tokenizer(tokenizer, manifest.max_seq_length)
    assert tokenize(tokenizer, [" ".join(words)])[0].shape == (1, 256)

    def variant(position: int) -> str:
        return " ".join([*words[:position], "volcano", *words[position + 1 :]])

    base, late, early = embedder.embed_sync([" ".join(words), variant(300), variant(200)])
    assert np.abs(base - late).max() < 1e-6  # token 300 is cut off
    assert np.abs(base - early).max() > 1e-4  # token 200 is read


def test_onnx_sha256_matches_manifest() -> None:
    manifest = Manifest.read(ASSETS_DIR)
    onnx_bytes = (ASSETS_DIR / manifest.onnx_file).read_bytes()
    assert hashlib.sha256(onnx_bytes).hexdigest() == manifest.onnx_sha256
    tokenizer_bytes = (ASSETS_DIR / manifest.tokenizer_file).read_bytes()
    assert hashlib.sha256(tokenizer_bytes).hexdigest() == manifest.tokenizer_sha256
    assert manifest.dim == 384
    assert (manifest.precision, manifest.variant) == ("int8", "w7")


def test_git_lfs_pointer_is_refused(tmp_path: Path) -> None:
    manifest = _copy_assets(tmp_path)
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 23653039\n"
    (tmp_path / manifest.onnx_file).write_text(pointer)
    with pytest.raises(AssetError, match="LFS"):
        LocalOnnxEmbedder(tmp_path).load()


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    manifest = _copy_assets(tmp_path)
    data = bytearray((ASSETS_DIR / manifest.onnx_file).read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / manifest.onnx_file).write_bytes(bytes(data))
    with pytest.raises(AssetError, match="sha256"):
        LocalOnnxEmbedder(tmp_path).embed_sync(["x"])


def test_missing_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="manifest missing"):
        LocalOnnxEmbedder(tmp_path)
    _copy_assets(tmp_path)
    with pytest.raises(AssetError, match="file missing"):
        LocalOnnxEmbedder(tmp_path).load()


def test_find_weights_refuses_unknown_weights(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="missing"):
        find_weights(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not the MiniLM weights")
    shutil.copyfile(ASSETS_DIR / "tokenizer.json", tmp_path / "tokenizer.json")
    with pytest.raises(WeightsError, match="sha256"):
        find_weights(tmp_path)


def _run_isolated(code: str, root: Path) -> str:
    """Run ``code`` in a fresh interpreter whose HOME and XDG dirs live under ``root``."""
    src_dir = Path(local.__file__).resolve().parents[3]
    # onnxruntime also stays silent when CI is set: drop it so both checks bite everywhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORT_") and k != "CI"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src_dir), env.get("PYTHONPATH")]))
    for var, sub in [
        ("HOME", "home"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
    ]:
        (root / sub).mkdir()
        env[var] = str(root / sub)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _files_under(root: Path) -> list[str]:
    """List every file below ``root``, relative."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_embedding_writes_no_telemetry_files(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from mindkeeper.providers.embedding.local import LocalOnnxEmbedder\n"
        "early = 'onnxruntime' in sys.modules\n"
        "vectors = LocalOnnxEmbedder().embed_sync(['hello world', 'offline memory'])\n"
        "print(json.dumps({'early': early, 'shape': list(vectors.shape)}))\n"
    )
    result = json.loads(_run_isolated(code, tmp_path))
    assert result == {"early": False, "shape": [2, 384]}
    assert _files_under(tmp_path) == []


@pytest.mark.skipif(sys.platform != "linux", reason="onnxruntime telemetry files are Linux-only")
def test_telemetry_check_can_detect_files(tmp_path: Path) -> None:
    """Check plain onnxruntime without the flag does write files, so the test above bites."""
    code = (
        "import onnxruntime as ort\n"
        "from mindkeeper.providers.embedding.local import ASSETS_DIR\n"
        "ort.InferenceSession(str(ASSETS_DIR / 'all-MiniLM-L6-v2-int8.onnx'),\n"
        "                     providers=['CPUExecutionProvider'])\n"
    )
    _run_isolated(code, tmp_path)
    assert any("onnxruntime" in f for f in _files_under(tmp_path))
