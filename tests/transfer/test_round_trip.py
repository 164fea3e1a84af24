"""Export and import: SQLite <-> PostgreSQL round trips, interruption and re-run, coverage.

A server on one backend is filled through every surface's API; its export is imported into
a fresh database of the other backend, whose own export must equal the first one line by
line (the header's time and backend aside). An import cut short (a truncated file, a process
killed while it waits for more input) is re-run with the whole file and ends with the same
data and no duplicate.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from mindkeeper.cli.main import main
from mindkeeper.storage.tables import metadata
from mindkeeper.storage.transfer.plan import EXCLUDED, export_plan
from tests.conftest import LiveServer, _pg_copy
from tests.fill import bedrock, fill_all

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

CREDENTIALS_KEY = base64.b64encode(bytes(range(32))).decode()
_count = iter(range(1_000_000))


def body(path: Path) -> list[str]:
    """The export's lines without the header (which names the time and the backend)."""
    lines = path.read_bytes().decode().splitlines()
    assert lines[0].startswith('{"') and '"format":"mindkeeper-export"' in lines[0]
    return lines[1:]


def cli(*args: str) -> None:
    """Run a command in this process; it must succeed."""
    assert main(list(args)) == 0


@pytest.fixture
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make empty databases at schema head: `fresh_url("sqlite")` or `fresh_url("postgresql")`."""
    made: list[Any] = []
    loop = asyncio.new_event_loop()

    def make(backend: str) -> str:
        if backend == "sqlite":
            path = tmp_path / f"fresh-{next(_count)}.db"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite+aiosqlite:///{path}"
        admin = request.getfixturevalue("pg_admin_dsn")
        template = request.getfixturevalue("pg_template")
        copy = _pg_copy(admin, template, f"mk_tx_{os.getpid()}_{next(_count)}")
        made.append(copy)
        return loop.run_until_complete(copy.__aenter__())

    yield make
    for copy in made:
        loop.run_until_complete(copy.__aexit__(None, None, None))
    loop.close()


@pytest.fixture
def filled(server_factory: Callable[..., LiveServer], tmp_path: Path) -> LiveServer:
    """A server on this test's backend, filled through every surface."""
    server = server_factory(
        worker_enabled=False, data_dir=tmp_path / "data", auth_credentials_key=CREDENTIALS_KEY
    )
    fill_all(server.url, server.settings)
    return server


def other(backend: str) -> str:
    """The other backend."""
    return "postgresql" if backend == "sqlite" else "sqlite"


async def counts(url: str) -> dict[str, int]:
    """Rows per table."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                t.name: (await conn.execute(sa.select(sa.func.count()).select_from(t))).scalar_one()
                for t in metadata.sorted_tables
            }
    finally:
        await engine.dispose()


def test_every_table_is_exported_or_excluded(sqlite_template: Path) -> None:
    """A table of the migrated schema that the export plan misses fails here."""
    planned = {p.name for p in export_plan()}
    engine = sa.create_engine(f"sqlite:///{sqlite_template}")
    try:
        tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert tables == planned | set(EXCLUDED), tables ^ (planned | set(EXCLUDED))
    assert not planned & set(EXCLUDED)
    for name, reason in EXCLUDED.items():
        assert reason, name


def test_plan_puts_parents_first() -> None:
    """Every foreign key points to a table exported earlier (or to its own table)."""
    order = [p.name for p in export_plan()]
    for plan in export_plan():
        for fk in plan.table.foreign_keys:
            parent = fk.column.table.name
            assert order.index(parent) <= order.index(plan.name), (plan.name, parent)


def test_round_trip_to_the_other_backend(
    backend: str, filled: LiveServer, fresh_url: Callable[[str], str], tmp_path: Path
) -> None:
    """Export -> import into the other backend -> export again: the same lines."""
    first, second, third = (tmp_path / n for n in ("a.jsonl", "b.jsonl.zst", "c.jsonl"))
    cli("export", "--database-url", filled.settings.database_url, "-o", str(first))
    target = fresh_url(other(backend))
    cli("import", str(first), "--database-url", target)
    cli("export", "--database-url", target, "-o", str(second))
    assert second.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"  # zstd
    back = fresh_url(backend)
    cli("import", str(second), "--database-url", back)
    cli("export", "--database-url", back, "-o", str(third))
    lines = body(first)
    assert len(lines) > 60
    assert body(third) == lines
    # zstd input decodes to the same lines as the plain file
    cli("import", str(second), "--database-url", back)  # a second run adds nothing
    assert asyncio.run(counts(back)) == asyncio.run(counts(filled.settings.database_url))
    steps = rows_of(lines, "invocation_steps")
    payloads = [base64.b64decode(r["payload"]) for r in steps]
    assert any(b"Hello from the agent" in p for p in payloads)
    assert any(b'"image"' in p for p in payloads)
    assert not any(b"sealed words" in p for p in payloads)  # sealed payloads stay sealed
    documents = rows_of(lines, "documents")
    assert documents and all(d["embedding_model"] and d["embedding"] for d in documents)


def rows_of(lines: list[str], table: str) -> list[dict[str, Any]]:
    """The rows of one section as dicts (values as written)."""
    out: list[dict[str, Any]] = []
    columns: list[str] | None = None
    for line in lines:
        value = json.loads(line)
        if isinstance(value, dict):
            if value.get("table") == table:
                columns = [c for c, _ in value["columns"]]
            elif value.get("end") == table:
                return out
        elif columns is not None:
            out.append(dict(zip(columns, value, strict=True)))
    return out


def test_truncated_file_then_whole_file(
    backend: str, filled: LiveServer, fresh_url: Callable[[str], str], tmp_path: Path
) -> None:
    """An import of a cut file stops with an error; the whole file then completes it."""
    whole, cut, again = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl", tmp_path / "again.jsonl"
    cli("export", "--database-url", filled.settings.database_url, "-o", str(whole))
    lines = whole.read_bytes().splitlines(keepends=True)
    cut.write_bytes(b"".join(lines[: len(lines) * 2 // 3]))
    target = fresh_url(other(backend))
    assert main(["import", str(cut), "--database-url", target]) == 1
    partial = asyncio.run(counts(target))
    assert (
        0 < sum(partial.values()) < sum(asyncio.run(counts(filled.settings.database_url)).values())
    )
    cli("import", str(whole), "--database-url", target)
    cli("export", "--database-url", target, "-o", str(again))
    assert body(again) == body(whole)


def test_killed_import_is_completed_by_a_rerun(
    backend: str, filled: LiveServer, fresh_url: Callable[[str], str], tmp_path: Path
) -> None:
    """A process killed half-way (while waiting for more input) leaves committed batches; a
    re-run completes the import without duplicates."""
    whole, again = tmp_path / "whole.jsonl", tmp_path / "again.jsonl"
    cli("export", "--database-url", filled.settings.database_url, "-o", str(whole))
    lines = whole.read_bytes().splitlines(keepends=True)
    ends = [i for i, line in enumerate(lines) if line.startswith(b'{"end":"')]
    half = ends[len(ends) // 2]  # the end line of a table in the middle of the file
    table = json.loads(lines[half])["end"]
    expected = json.loads(lines[half])["rows"]
    target = fresh_url(other(backend))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINDKEEPER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mindkeeper.cli.main", "import", "-", "--database-url", target],
        stdin=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"".join(lines[: half + 1]))
    proc.stdin.flush()
    for _ in range(1200):  # wait (bounded) until that table's rows are committed
        if asyncio.run(counts(target))[table] == expected:
            break
        assert proc.poll() is None
        threading.Event().wait(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert asyncio.run(counts(target))[table] == expected
    cli("import", str(whole), "--database-url", target)
    cli("export", "--database-url", target, "-o", str(again))
    assert body(again) == body(whole)
    assert asyncio.run(counts(target)) == asyncio.run(counts(filled.settings.database_url))


def test_workspace_export(
    backend: str, filled: LiveServer, fresh_url: Callable[[str], str], tmp_path: Path
) -> None:
    """`--workspace NAME` exports that workspace's rows only; they import on their own."""
    whole, part = tmp_path / "whole.jsonl", tmp_path / "part.jsonl"
    cli("export", "--database-url", filled.settings.database_url, "-o", str(whole))
    name = next(r for r in rows_of(body(whole), "workspaces") if r["name"].startswith("ws-"))
    cli(
        "export",
        "--workspace",
        name["name"],
        "--database-url",
        filled.settings.database_url,
        "-o",
        str(part),
    )
    lines = body(part)
    assert rows_of(lines, "workspaces") == [name]
    assert not rows_of(lines, "agent_sessions") and not rows_of(lines, "access_keys")
    messages = rows_of(lines, "messages")
    assert messages and all(m["workspace_id"] == name["public_id"] for m in messages)
    target = fresh_url(other(backend))
    cli("import", str(part), "--database-url", target)
    assert asyncio.run(counts(target))["messages"] == len(messages)
    assert main(["export", "--workspace", "nope", "--database-url", target]) == 1


def _without(lines: list[str], tables: tuple[str, ...], column: str) -> list[str]:
    """The lines with one column removed from the sections of `tables`."""
    out, drop = [], None
    for line in lines:
        value = json.loads(line)
        if isinstance(value, dict) and value.get("table") in tables:
            drop = [c for c, _ in value["columns"]].index(column)
        elif isinstance(value, dict):
            drop = None
        if drop is not None:
            del (value["columns"] if isinstance(value, dict) else value)[drop]
            line = json.dumps(value)
        out.append(line)
    return out


def test_an_export_without_the_agent_children_accounts_imports(
    backend: str, filled: LiveServer, fresh_url: Callable[[str], str], tmp_path: Path
) -> None:
    """A file of the schema before invocations, steps and session tags carried their account
    (revision 0007) imports: each row takes its session's account."""
    whole, older, again = (tmp_path / n for n in ("whole.jsonl", "older.jsonl", "again.jsonl"))
    bedrock(filled.url).create_session(tags={"team": "blue", "stage": "test"})
    cli("export", "--database-url", filled.settings.database_url, "-o", str(whole))
    lines = whole.read_bytes().decode().splitlines()
    children = ("invocations", "invocation_steps", "agent_session_tags")
    stripped = _without(lines, children, "account_id")
    assert all("account_id" not in row for t in children for row in rows_of(stripped, t))
    older.write_text("\n".join(stripped) + "\n")
    target = fresh_url(other(backend))
    cli("import", str(older), "--database-url", target)
    cli("export", "--database-url", target, "-o", str(again))
    assert body(again) == body(whole)
    for table in children:
        assert rows_of(body(again), table), table
