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

from mindkeeper.providers.embedding import local
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
# The int8 graph (per-token activations) scores min 0.992 / mean 0.998 against fp32 on the
# build script's 29 sentences; onnxruntime's stock quantize_dynamic scores 0.966 / 0.992.
MIN_COS, MEAN_COS = 0.97, 0.99

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
    assert embedder.model_id == "all-MiniLM-L6-v2:int8"
    assert embedder.dim == 384


def test_tokenizer_matches_reference(reference: dict[str, Any]) -> None:
    manifest = Manifest.read(ASSETS_DIR)
    tokenizer = Tokenizer.from_file(str(ASSETS_DIR / manifest.tokenizer_file))
    pad_id = configure_tokenizer(tokenizer, manifest.max_seq_length)
    for item in reference["sentences"]:
        ids, mask = tokenize(tokenizer, [item["text"]], pad_id)
        assert ids[0].tolist() == item["input_ids"]
        assert mask.all()


async def test_int8_close_to_fp32_reference(
    embedder: LocalOnnxEmbedder, reference: dict[str, Any]
) -> None:
    texts = [item["text"] for item in reference["sentences"]]
    expected = np.array([item["vector"] for item in reference["sentences"]], dtype=np.float32)
    got = await embedder.embed(texts)
    cos = (got * expected).sum(axis=1) / np.linalg.norm(expected, axis=1)
    assert cos.min() >= MIN_COS, cos
    assert cos.mean() >= MEAN_COS, cos


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
    assert manifest.precision == "int8"


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
