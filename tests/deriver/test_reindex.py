"""Embedders: re-embedding after a change of model (resumable), and the fp32 MiniLM build."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mindkeeper.bootstrap import build_runtime
from mindkeeper.core.services import collections, documents, peers, reindex, workspaces
from mindkeeper.errors import StartupError
from mindkeeper.providers.embedding.fp32 import (
    MODEL_DIR_NAME,
    ensure_fp32_model,
    load_fp32_embedder,
)
from mindkeeper.providers.embedding.openai_compat import OpenAICompatEmbedder
from mindkeeper.storage import migrate
from tests.conftest import make_settings
from tests.deriver.fakes import FakeModelServer

TEXTS = [f"note number {i} about topic {i % 3}" for i in range(7)]
REFERENCE = Path(__file__).parents[1] / "providers" / "fixtures" / "minilm_reference.json"


async def _seed(database_url: str, fake: FakeModelServer) -> dict[str, str]:
    old = OpenAICompatEmbedder("fake-embed", base_url=fake.openai_url)
    rt = build_runtime(
        make_settings(database_url, worker_enabled=False), embedder=old, chat_model=None
    )
    try:
        ws = await workspaces.create(rt.uow(), "r", {})
        peer = await peers.create(rt.uow(), ws.id, "u", {})
        coll = await collections.create(rt.uow(), ws.id, peer.id, "c", {})
        for text in TEXTS:
            await documents.create(rt.uow(), old, ws.id, peer.id, coll.id, text, {})
    finally:
        await rt.close()
    return {"workspace": ws.id, "peer": peer.id, "collection": coll.id}


async def test_reindex_makes_old_documents_searchable_and_resumes(
    database_url: str, fake_models: FakeModelServer, embedder: Any
) -> None:
    ids = await _seed(database_url, fake_models)
    rt = build_runtime(
        make_settings(database_url, worker_enabled=False), embedder=embedder, chat_model=None
    )
    where = (ids["workspace"], ids["peer"], ids["collection"])
    try:
        assert await documents.query(rt.uow(), embedder, *where, TEXTS[4], None, 5) == []

        class Interrupt(Exception):
            pass

        seen: list[tuple[int, int]] = []

        def stop_after_first(done: int, total: int) -> None:
            seen.append((done, total))
            raise Interrupt

        with pytest.raises(Interrupt):
            await reindex.reindex(rt, batch_size=3, on_progress=stop_after_first)
        assert seen == [(3, 7)]
        progress: list[tuple[int, int]] = []
        result = await reindex.reindex(
            rt, batch_size=3, on_progress=lambda d, t: progress.append((d, t))
        )
        assert (result.total, result.updated, result.skipped) == (4, 4, 0)
        assert progress == [(3, 4), (4, 4)]
        found = await documents.query(rt.uow(), embedder, *where, TEXTS[4], None, 3)
        assert found[0].content == TEXTS[4]
        again = await reindex.reindex(rt)
        assert (again.total, again.updated) == (0, 0)
    finally:
        await rt.close()


def test_reindex_command_prints_progress(
    tmp_path: Path, fake_models: FakeModelServer, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("one backend is enough for the command's output")
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    asyncio.run(migrate.upgrade(url))
    asyncio.run(_seed(url, fake_models))
    result = subprocess.run(
        [sys.executable, "-m", "mindkeeper.cli.main", "reindex", "--database-url", url],
        capture_output=True,
        text=True,
        env={**os.environ, "MINDKEEPER_EMBEDDER": "local"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "reindex [##############################] 7/7 (100%)" in result.stderr
    assert "re-embedded 7 of 7 document(s) with all-MiniLM-L6-v2:int8-w7" in result.stdout


def test_fp32_embedder_is_built_once_and_matches_the_reference(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model_dir = ensure_fp32_model(tmp_path)
    assert model_dir == tmp_path / MODEL_DIR_NAME
    stamp = (model_dir / "MANIFEST.json").stat().st_mtime_ns
    assert ensure_fp32_model(tmp_path) == model_dir  # cached: not rebuilt
    assert (model_dir / "MANIFEST.json").stat().st_mtime_ns == stamp
    embedder = load_fp32_embedder(tmp_path)
    assert embedder.model_id == "all-MiniLM-L6-v2:fp32" and embedder.dim == 384
    reference = json.loads(REFERENCE.read_text())["sentences"]
    vectors = embedder.embed_sync([s["text"] for s in reference])
    expected = np.asarray([s["vector"] for s in reference], dtype=np.float32)
    assert float(np.abs(vectors - expected).max()) < 1e-4


def test_openai_embedder_needs_a_model_name(tmp_path: Path) -> None:
    from mindkeeper.bootstrap import build_embedder

    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", embedder="openai")
    with pytest.raises(StartupError, match="MINDKEEPER_EMBEDDING_MODEL"):
        build_embedder(settings)
