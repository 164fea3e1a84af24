"""Local, offline sentence embedder: an ONNX MiniLM graph run by onnxruntime on CPU.

A model directory holds ``MANIFEST.json`` (model, precision, dim, file hashes), the ONNX
graph it names and ``tokenizer.json``. The package ships the int8 all-MiniLM-L6-v2 in
``assets/`` (its integer products are exact on every CPU; see ``minilm_graph``); an fp32
build of the same model can live in any other directory.

onnxruntime is imported on first use, after ``ORT_DISABLE_TELEMETRY=1`` is set (unless the
environment already says otherwise), so nothing is written under the user's home.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
MANIFEST_NAME = "MANIFEST.json"
DEFAULT_BATCH_SIZE = 32
_LFS_POINTER_PREFIX = b"version https://git-lfs.github.com/spec/"


class AssetError(RuntimeError):
    """A model file is missing, is a Git LFS pointer, or does not match its manifest."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a model directory contains; written by the build, checked on load."""

    model: str
    precision: str
    dim: int
    max_seq_length: int
    onnx_file: str
    onnx_sha256: str
    tokenizer_file: str
    tokenizer_sha256: str
    weights_sha256: str
    source: str
    pooling: str = "mean"
    normalized: bool = True
    upstream: str = ""
    license: str = ""
    variant: str = ""  # names a build whose vectors differ from another of the same precision
    build: dict[str, str] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        """Model name, precision and variant, e.g. ``all-MiniLM-L6-v2:int8-w7``.

        Stored with every vector: builds whose vectors differ must have different ids.
        """
        suffix = f"-{self.variant}" if self.variant else ""
        return f"{self.model}:{self.precision}{suffix}"

    @classmethod
    def read(cls, model_dir: Path) -> Manifest:
        """Load ``MANIFEST.json`` from a model directory."""
        path = model_dir / MANIFEST_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise AssetError(f"embedding model manifest missing: {path}") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise AssetError(f"embedding model manifest unreadable: {path}") from exc
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{k: v for k, v in raw.items() if k in known})
        except TypeError as exc:
            raise AssetError(f"embedding model manifest incomplete: {path}: {exc}") from exc

    def write(self, model_dir: Path) -> Path:
        """Write ``MANIFEST.json`` (with the derived ``model_id``) into a model directory."""
        path = model_dir / MANIFEST_NAME
        data = {"model_id": self.model_id, **asdict(self)}
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return path


def read_checked(path: Path, sha256: str | None) -> bytes:
    """Read a model file, refusing a missing file, a Git LFS pointer or a hash mismatch."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise AssetError(f"embedding model file missing: {path}") from exc
    if data.startswith(_LFS_POINTER_PREFIX):
        raise AssetError(
            f"{path} is a Git LFS pointer, not the model: run `git lfs pull` "
            "or install the package from a wheel"
        )
    digest = hashlib.sha256(data).hexdigest() if sha256 is not None else None
    if digest != sha256:
        raise AssetError(f"{path} has sha256 {digest}, manifest says {sha256}")
    return data


def configure_tokenizer(tokenizer: Tokenizer, max_seq_length: int) -> int:
    """Turn off the file's own padding, truncate at ``max_seq_length``; return the pad id."""
    padding = tokenizer.padding
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_seq_length)
    return int(padding["pad_id"]) if padding else 0


def tokenize(
    tokenizer: Tokenizer, texts: Sequence[str], pad_id: int = 0
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Encode texts and pad to the longest: ``(input_ids, attention_mask)``, int64."""
    encodings = [tokenizer.encode(text).ids for text in texts]
    width = max((len(ids) for ids in encodings), default=0)
    input_ids = np.full((len(encodings), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(encodings), width), dtype=np.int64)
    for row, ids in enumerate(encodings):
        input_ids[row, : len(ids)] = ids
        mask[row, : len(ids)] = 1
    return input_ids, mask


def _import_onnxruntime() -> Any:
    """Import onnxruntime with its telemetry off (unless the environment decided)."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    return importlib.import_module("onnxruntime")


@dataclass(frozen=True, slots=True)
class _Runtime:
    """A loaded inference session and its tokenizer."""

    session: Any
    tokenizer: Tokenizer
    pad_id: int


class LocalOnnxEmbedder:
    """``Embedder`` port on onnxruntime: float32 ``(n, dim)`` L2-normalised rows."""

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        intra_op_threads: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        verify: bool = True,
    ) -> None:
        self.model_dir = model_dir if model_dir is not None else ASSETS_DIR
        self.manifest = Manifest.read(self.model_dir)
        self.model_id: str = self.manifest.model_id
        self.dim: int = self.manifest.dim
        self.batch_size = max(1, batch_size)
        self.intra_op_threads = max(1, intra_op_threads or 1)
        self.verify = verify
        self._lock = threading.Lock()
        self._runtime: _Runtime | None = None

    def load(self) -> None:
        """Load the session and tokenizer now (else on the first embed)."""
        self._load()

    async def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed texts in a worker thread; returns float32 ``(len(texts), dim)``."""
        return await asyncio.to_thread(self.embed_sync, _as_list(texts))

    def embed_sync(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embed texts in the calling thread; returns float32 ``(len(texts), dim)``."""
        items = _as_list(texts)
        out = np.empty((len(items), self.dim), dtype=np.float32)
        if not items:
            return out
        runtime = self._load()
        # Length-sorted batches waste less compute on padding; every row is independent of
        # its batch neighbours, so the order does not change any vector.
        order = sorted(range(len(items)), key=lambda i: len(items[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run(runtime, [items[i] for i in idx])
        return out

    def _run(self, runtime: _Runtime, texts: list[str]) -> NDArray[np.float32]:
        """Tokenise one batch, pad it to its longest text and run the session."""
        input_ids, mask = tokenize(runtime.tokenizer, texts, runtime.pad_id)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        (vectors,) = runtime.session.run(["sentence_embedding"], feeds)
        result: NDArray[np.float32] = np.asarray(vectors, dtype=np.float32)
        if result.shape != (len(texts), self.dim):
            raise AssetError(f"{self.model_id} returned shape {result.shape}, not (n, {self.dim})")
        return result

    def _load(self) -> _Runtime:
        """Check the files against the manifest and build the session, once."""
        with self._lock:
            if self._runtime is None:
                self._runtime = self._open()
            return self._runtime

    def _open(self) -> _Runtime:
        """Open tokenizer and inference session from the model directory."""
        m = self.manifest
        onnx_path, tok_path = self.model_dir / m.onnx_file, self.model_dir / m.tokenizer_file
        model_bytes = read_checked(onnx_path, m.onnx_sha256 if self.verify else None)
        tok_bytes = read_checked(tok_path, m.tokenizer_sha256 if self.verify else None)
        tokenizer = Tokenizer.from_str(tok_bytes.decode("utf-8"))
        pad_id = configure_tokenizer(tokenizer, m.max_seq_length)

        ort = _import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
        return _Runtime(session=session, tokenizer=tokenizer, pad_id=pad_id)


def _as_list(texts: Sequence[str]) -> list[str]:
    """Copy the input to a list, refusing a bare string (a sequence of characters)."""
    if isinstance(texts, str):
        raise TypeError("embed() takes a sequence of texts, not a single str")
    items = list(texts)
    for text in items:
        if not isinstance(text, str):
            raise TypeError(f"embed() takes str items, got {type(text).__name__}")
    return items
