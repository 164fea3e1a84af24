"""Import: replay an export into a database at schema head, idempotently.

Sections are read in the file's order (parents before children) and written in batches, each
in its own transaction, keeping every row's key. A batch first reads which of its keys the
database already holds: those rows are skipped if they are the same records (same public id,
or same unique columns), and refused otherwise, so re-running an interrupted import completes
it without duplicates and an import never merges into unrelated data. On PostgreSQL the key
sequences are moved past the imported keys. A file of an older schema whose table lacks its
tenant key (which that table gained later) takes the key from the row's parent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Column, bindparam, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from mindkeeper.errors import Conflict
from mindkeeper.storage.engine import Database
from mindkeeper.storage.transfer.exporter import NoProgress, Progress, Summary, section_columns
from mindkeeper.storage.transfer.format import DECODERS, FORMAT, VERSION, FormatError, loads
from mindkeeper.storage.transfer.plan import TENANT_COLUMNS, TablePlan, planned_tables
from mindkeeper.storage.uow import SqlUnitOfWork

BATCH = 2000
#: Binds None as SQL NULL (and `JSON.NULL` as JSON null) for nullable JSON columns.
_NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


@dataclass(frozen=True, slots=True)
class _Inherited:
    """A tenant key the file lacks, read from the parent row through a foreign key."""

    key: str
    #: The row's foreign key column (in the file).
    via: str
    parent_key: Column[Any]
    parent_value: Column[Any]


@dataclass
class _Section:
    plan: TablePlan
    #: (target column key, decoder, wrapped) per column of the file, in the file's order.
    columns: list[tuple[str, Any, bool]]
    statement: Any
    rows: int = 0
    skipped: int = 0
    inherited: list[_Inherited] = field(default_factory=list)


def _inherited(plan: TablePlan, given: set[str]) -> list[_Inherited]:
    """The tenant keys the file's table lacks, each with a parent that holds it."""
    out = []
    for name in TENANT_COLUMNS:
        column = plan.table.c.get(name)
        if column is None or name in given:
            continue
        for fk in sorted(plan.table.foreign_keys, key=lambda f: f.parent.name):
            parent = fk.column.table
            if fk.parent.name in given and name in parent.c:
                out.append(_Inherited(column.key, fk.parent.key, fk.column, parent.c[name]))
                break
    return out


async def _inherit(conn: Any, inherited: list[_Inherited], rows: list[dict[str, Any]]) -> None:
    """Set the tenant keys the file lacks from the rows' parents (already imported)."""
    for inherit in inherited:
        parents = {row[inherit.via] for row in rows}
        stmt = select(inherit.parent_key, inherit.parent_value).where(
            inherit.parent_key.in_(parents)
        )
        found = {key: value for key, value in (await conn.execute(stmt)).all()}
        for row in rows:
            row[inherit.key] = found.get(row[inherit.via])


def _header(line: Any) -> dict[str, Any]:
    if not isinstance(line, dict) or line.get("format") != FORMAT:
        raise FormatError("not a Mindkeeper export (the first line is not its header)")
    if line.get("version") != VERSION:
        raise FormatError(
            f"export format version {line.get('version')!r}; this version reads {VERSION}"
        )
    return line


def _section(line: dict[str, Any], plans: dict[str, TablePlan]) -> _Section:
    name = line.get("table")
    plan = plans.get(str(name))
    if plan is None:
        raise FormatError(f"the export has a table this schema does not know: {name!r}")
    expected = {c: k for c, k in section_columns(plan)}
    columns: list[tuple[str, Any, bool]] = []
    values: dict[str, Any] = {}
    for pair in line.get("columns") or []:
        column, kind = pair
        if column not in expected:
            raise FormatError(f"table {name}: column {column!r} is not in this schema")
        if kind != expected[column]:
            raise FormatError(
                f"table {name}: column {column} is {kind}, expected {expected[column]}"
            )
        key = plan.table.c[column].key
        wrapped = kind == "json?"
        columns.append((key, DECODERS["json" if wrapped else kind], wrapped))
        if wrapped:
            values[key] = bindparam(f"{key}__json", type_=_NULLABLE_JSON)
    given = {c for c, _ in line["columns"]}
    missing = {c.name for c in (*plan.key, *plan.identity)} - given
    if missing:
        raise FormatError(f"table {name}: the export lacks the columns {sorted(missing)}")
    statement = insert(plan.table).values(values) if values else insert(plan.table)
    return _Section(plan, columns, statement, inherited=_inherited(plan, given))


def _decode(section: _Section, row: Any) -> dict[str, Any]:
    if not isinstance(row, list) or len(row) != len(section.columns):
        raise FormatError(f"table {section.plan.name}: a row does not match its columns")
    out: dict[str, Any] = {}
    for (key, decode, wrapped), value in zip(section.columns, row, strict=True):
        if wrapped:
            if value is None:
                out[f"{key}__json"] = None
            elif isinstance(value, list) and len(value) == 1:
                out[f"{key}__json"] = JSON.NULL if value[0] is None else value[0]
            else:
                raise FormatError(f"table {section.plan.name}: column {key} is not wrapped")
        else:
            out[key] = decode(value)
    return out


def _value(row: dict[str, Any], key: str) -> Any:
    return row[key] if key in row else row.get(f"{key}__json")


async def _flush(db: Database, section: _Section, batch: list[dict[str, Any]]) -> None:
    """Write one batch in its own transaction, skipping the rows already there."""
    plan = section.plan
    keys = [c.key for c in plan.key]
    idents = [c.key for c in plan.identity]
    wanted = [tuple(_value(r, k) for k in keys) for r in batch]
    column = plan.key[0] if len(plan.key) == 1 else tuple_(*plan.key)
    probe = wanted if len(plan.key) > 1 else [w[0] for w in wanted]
    async with SqlUnitOfWork(db, write=True) as uow:
        conn = uow.connection
        found = {
            tuple(row[: len(keys)]): tuple(row[len(keys) :])
            for row in (
                await conn.execute(select(*plan.key, *plan.identity).where(column.in_(probe)))
            ).all()
        }
        fresh = []
        for key, row in zip(wanted, batch, strict=True):
            held = found.get(key)
            if held is None:
                fresh.append(row)
            elif held != tuple(_value(row, k) for k in idents):
                raise Conflict(
                    f"table {plan.name}: the database already holds another record under the "
                    f"key {key!r}; import into an empty database (or one that holds only an "
                    "earlier run of this import)"
                )
        if fresh:
            await _inherit(conn, section.inherited, fresh)
            try:
                await conn.execute(section.statement, fresh)
            except IntegrityError as exc:
                raise Conflict(
                    f"table {plan.name}: a row conflicts with data already in the database "
                    f"({str(exc.orig).splitlines()[0]}); import into an empty database"
                ) from None
        if plan.serial is not None and db.dialect == "postgresql":
            await conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f'(SELECT max("{plan.serial.name}") FROM "{plan.name}"))'
                ).bindparams(table=plan.name, column=plan.serial.name)
            )
        await uow.commit()
    section.rows += len(batch)
    section.skipped += len(batch) - len(fresh)


@dataclass
class ImportResult:
    """What an import did: rows by table, how many were already there, the file's header."""

    summary: Summary
    skipped: int
    header: dict[str, Any]


async def import_lines(
    db: Database, lines: Iterable[bytes], progress: Progress | None = None
) -> ImportResult:
    """Import an export given as its lines; FormatError for a file that is not one (or is cut
    short), Conflict when the database holds other data under the same keys."""
    progress = progress or NoProgress()
    plans = planned_tables()
    stream: Iterator[bytes] = (line for line in lines if line.strip())
    first = next(stream, None)
    if first is None:
        raise FormatError("the file is empty")
    header = _header(loads(first))
    totals: dict[str, int] = {}
    skipped = 0
    section: _Section | None = None
    batch: list[dict[str, Any]] = []
    for raw in stream:
        line = loads(raw)
        if isinstance(line, list):
            if section is None:
                raise FormatError("a row outside any table section")
            batch.append(_decode(section, line))
            if len(batch) >= BATCH:
                await _flush(db, section, batch)
                progress.advance(len(batch))
                batch = []
            continue
        if not isinstance(line, dict):
            raise FormatError("a line that is neither a row nor a control object")
        if "table" in line:
            if section is not None:
                raise FormatError(f"table {section.plan.name} has no end line")
            section = _section(line, plans)
            progress.start(section.plan.name, None)
        elif "end" in line and line["end"] is not None:
            if section is None or line["end"] != section.plan.name:
                raise FormatError(f"an end line for {line['end']!r} outside its section")
            if batch:
                await _flush(db, section, batch)
                progress.advance(len(batch))
                batch = []
            if line.get("rows") != section.rows:
                raise FormatError(
                    f"table {section.plan.name}: {section.rows} rows, "
                    f"the file says {line.get('rows')}"
                )
            totals[section.plan.name] = section.rows
            skipped += section.skipped
            progress.finish()
            section = None
        elif "end" in line:
            if section is not None:
                raise FormatError(f"table {section.plan.name} has no end line")
            if line.get("tables") != totals:
                raise FormatError("the trailer's row counts do not match the file's sections")
            return ImportResult(Summary(totals), skipped, header)
        else:
            raise FormatError("an unknown control line")
    raise FormatError(
        "the file ends before its trailer (cut short?): the rows read so far are imported; "
        "import the complete file to finish"
    )
