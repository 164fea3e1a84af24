"""Benchmark of the deriver on v3 messages observed by several peers.

    python bench/bench_v3_deriver.py                          # SQLite and PostgreSQL
    python bench/bench_v3_deriver.py --backends sqlite --observers 0,3

Each session has one speaker and N other members with `observe_others: true`; every message
of the speaker states one fact. A worker (1 and 4 job slots) derives the backlog against a
fake OpenAI-compatible model that answers every request after 200 ms: per work unit one fact
extraction and one peer-card update (the observers' cards are equal, so one call), the facts
embedded with the local int8 model and written into 1 + N collections, de-duplicated per
collection. Work units of 10 messages (the default) are compared with one message per unit.

Prints messages/s, conclusions written/s and model calls per configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_deriver import OBJECTS, VERBS, new_pg_database, settings_for  # noqa: E402
from common import embedded_postgres  # noqa: E402

from mindkeeper.bootstrap import AppRuntime, build_embedder, build_runtime  # noqa: E402
from mindkeeper.config import Settings  # noqa: E402
from mindkeeper.core.ports import MemberSettings  # noqa: E402
from mindkeeper.core.ports.work_units import WorkFilter  # noqa: E402
from mindkeeper.core.services.conversations import messages, sessions  # noqa: E402
from mindkeeper.core.services.conversations.messages import MessageInput  # noqa: E402
from mindkeeper.core.values import PageRequest  # noqa: E402
from mindkeeper.storage import migrate  # noqa: E402
from mindkeeper.worker.runner import DeriverWorker  # noqa: E402
from tests.deriver.fakes import FakeModelServer  # noqa: E402
from tests.honcho_v3.memory_fakes import MODEL, v3_responder  # noqa: E402

LATENCY = 0.2
SESSIONS = 8
PER_SESSION = 20


async def _seed(rt: AppRuntime, workspace: str, observers: int) -> int:
    for s in range(SESSIONS):
        name = f"s{s}"
        members = {"speaker": MemberSettings()}
        members.update({f"o{i}": MemberSettings(observe_others=True) for i in range(observers)})
        await sessions.get_or_create(rt.uow(), workspace, name, None, None, members)
        inputs = [
            MessageInput(
                "speaker",
                f"turn {i}. FACT: Speaker {VERBS[i % 6]} {OBJECTS[(s + i) % 20]} in room {s}-{i}.",
            )
            for i in range(PER_SESSION)
        ]
        await messages.create(
            rt.uow(), workspace, name, inputs, rt.tokens.count, embed=rt.embedder is not None
        )
    return SESSIONS * PER_SESSION


async def _drain(rt: AppRuntime, workspace: str, limit: float = 900) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        async with rt.uow(write=False) as uow:
            ws = await uow.workspaces.get_by_name(workspace)
            assert ws is not None
            status = await uow.jobs.work_status(WorkFilter(ws.id))
        if status.counts.pending == 0 and status.counts.in_progress == 0:
            if status.counts.dead:
                print(f"  warning: {status.counts.dead} dead jobs")
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise TimeoutError("the queue did not drain")


async def _conclusions(rt: AppRuntime, workspace: str) -> int:
    async with rt.uow(write=False) as uow:
        ws = await uow.workspaces.get_by_name(workspace)
        assert ws is not None
        page = await uow.conclusions.list(ws.id, None, None, None, PageRequest(size=1))
        return page.total


async def run(
    label: str,
    url: str,
    fake: FakeModelServer,
    embedder: Any,
    observers: int,
    batch: int,
    slots: int,
) -> None:
    settings = settings_for(
        url,
        worker_enabled=False,
        chat_base_url=fake.openai_url,
        deriver_model=MODEL,
        summary_model="fake-summary",
        worker_poll_seconds=0.05,
        deriver_concurrency=slots,
        deriver_batch_max_messages=batch,
    )
    rt = build_runtime(settings, embedder=embedder)
    workspace = f"bench-{label}-{observers}-{batch}-{slots}-{time.time_ns()}"
    n = await _seed(rt, workspace, observers)
    calls_before = len(fake.calls)
    stop = asyncio.Event()
    task = asyncio.create_task(DeriverWorker(rt, concurrency=slots).run(stop))
    seconds = await _drain(rt, workspace)
    stop.set()
    await task
    written = await _conclusions(rt, workspace)
    await rt.close()
    calls = len(fake.calls) - calls_before
    print(
        f"  {label:<10} {1 + observers:>9} {batch:>5} {slots:>5} {n:>8} {n / seconds:>8.1f}"
        f" {written / seconds:>13.1f} {calls:>6}",
        flush=True,
    )


CONFIGS = ((10, 1), (10, 4), (1, 4))


async def _backend(
    backend: str, fake: FakeModelServer, embedder: Any, observers: list[int]
) -> None:
    if backend == "sqlite":
        for count in observers:
            for batch, slots in CONFIGS:
                with tempfile.TemporaryDirectory() as tmp:
                    url = f"sqlite+aiosqlite:///{tmp}/bench.db"
                    await migrate.upgrade(url)
                    await run("sqlite", url, fake, embedder, count, batch, slots)
        return
    with embedded_postgres() as admin:
        for count in observers:
            for batch, slots in CONFIGS:
                url = await new_pg_database(admin, f"mk_bench_v3_{count}_{batch}_{slots}")
                await migrate.upgrade(url)
                await run("postgresql", url, fake, embedder, count, batch, slots)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--observers", default="0,3,9", help="other members observing")
    args = parser.parse_args()
    fake = FakeModelServer().start()
    fake.responders[MODEL] = v3_responder
    fake.latency = LATENCY
    embedder = build_embedder(Settings(_env_file=None, embedder="local"))  # type: ignore[call-arg]
    print(
        f"v3 derivation, {SESSIONS} sessions x {PER_SESSION} messages, model latency "
        f"{int(LATENCY * 1000)} ms"
    )
    print(
        f"  {'backend':<10} {'observers':>9} {'batch':>5} {'slots':>5} {'messages':>8}"
        f" {'msgs/s':>8} {'conclusions/s':>13} {'calls':>6}"
    )
    observers = [int(x) for x in args.observers.split(",")]
    try:
        for backend in args.backends.split(","):
            await _backend(backend, fake, embedder, observers)
    finally:
        fake.stop()


if __name__ == "__main__":
    asyncio.run(main())
