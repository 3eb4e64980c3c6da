"""Data preservation: rows written at revision R survive ``upgrade head`` and the way back to R."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hypothesis import HealthCheck, Phase, given, reject, settings
from hypothesis import strategies as st
from sqlalchemy import Integer, MetaData, Table, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError

from ..findings import FindingError
from ..strategies import TableRows, boundary_graph, table_graphs
from ..strategies._live_schema import IGNORED_TABLES
from .runner import MigrationError, MigrationRunner

__all__ = [
    "DataLossError",
    "GraphSource",
    "PreservationReport",
    "RowMismatch",
    "check_data_preservation",
    "reflect_tables",
    "strategies_source",
]

_SHOW = 60  # characters of a value shown in a message


@dataclass(frozen=True)
class RowMismatch:
    """One generated row (or value) that did not survive; ``stage`` names the migration step
    after which it was first seen missing or changed (e.g. "after downgrade r2 (notes)")."""

    stage: str
    table: str
    column: str | None
    key: str
    expected: Any
    found: Any
    traceable: bool = True  # False: the row's key changed type, it cannot be told lost or kept

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return (
            f"[{self.stage}] {where} row {self.key}: expected {_short(self.expected)}, "
            f"found {_short(self.found)}"
        )


class DataLossError(FindingError):
    """Generated rows changed or vanished; names the revision, stage, table, column and row."""

    def __init__(self, revision: str, mismatches: Sequence[RowMismatch], rows: int) -> None:
        self.revision = revision
        self.mismatches = list(mismatches)
        shown = "\n  ".join(str(m) for m in self.mismatches[:10])
        more = f"\n  ... and {len(self.mismatches) - 10} more" if len(self.mismatches) > 10 else ""
        super().__init__(
            f"rows generated at revision {revision}: {len(self.mismatches)} value(s) of {rows} "
            f"row(s) not preserved by upgrade head / downgrade back to it (the stage names the "
            f"revision whose step lost them):\n  {shown}{more}"
        )


class RowsRefusedError(MigrationError):
    """A migration step refused the rows generated at an earlier revision (a CHECK, a NOT NULL
    or a narrower type that existing data cannot hold): names the revision the rows were
    generated at, the step that refused them, the constraint and the table's row count."""

    def __init__(self, generated_at: str, refused: MigrationError,
                 stored: Mapping[str, Sequence[Any]]) -> None:
        diag = getattr(getattr(refused.error, "orig", None), "diag", None)
        table = str(getattr(diag, "table_name", None))
        rows = (f"{len(stored[table])} row(s) of {table}" if table in stored
                else f"{sum(len(r) for r in stored.values())} row(s)")
        self.revision, self.direction, self.error = (refused.revision, refused.direction,
                                                     refused.error)
        self.generated_at = generated_at
        FindingError.__init__(
            self, f"{rows} generated at revision {generated_at} cannot be migrated: {refused}; "
            "the existing data cannot hold what the revision adds: convert the rows in the "
            "revision before it adds the rule (an UPDATE), or relax the rule")


class _Rejected(Exception):
    """The database refused a generated row (a CHECK the generator does not model)."""


@dataclass
class PreservationReport:
    """What a preservation check exercised: examples run, rows checked, tables at R."""

    revision: str
    tables: list[str]
    examples: int = 0
    rows: int = 0
    rejected: int = 0
    notes: list[str] = field(default_factory=list)
    untraceable: list[str] = field(default_factory=list)  # tables whose key changed type


def _short(value: Any) -> str:
    shown = repr(value)
    if len(shown) > _SHOW:
        size = f" ({len(value)} chars)" if isinstance(value, str) else ""
        shown = shown[: _SHOW - 3] + "..." + size
    return shown


def reflect_tables(connection: Connection) -> list[Table]:
    """Return the tables of the live schema in dependency order (parents first).

    ``alembic_version`` is excluded. Raises ``sqlalchemy.exc.DBAPIError`` on catalogue errors.
    """
    metadata = MetaData()
    metadata.reflect(connection)
    return [t for t in metadata.sorted_tables if t.name not in IGNORED_TABLES]


def _insert(connection: Connection, rows: TableRows) -> dict[str, list[dict[str, Any]]]:
    """Insert ``rows`` in order; return the stored rows (as RETURNING gives them) per table.
    Keys are explicit, so each serial or identity sequence is then moved past them: a data
    migration that inserts rows of its own must not collide with ours."""
    stored: dict[str, list[dict[str, Any]]] = {}
    for table, row in rows:
        result = connection.execute(table.insert().values(row).returning(*table.c))
        stored.setdefault(table.name, []).append(dict(result.mappings().one()))
    by_name = {table.name: table for table, _ in rows}
    quote = connection.dialect.identifier_preparer
    for name in stored:
        table = by_name[name]
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):  # only integer keys have sequences
                continue
            qualified = quote.format_table(table)
            connection.execute(text(
                f"SELECT setval(s, (SELECT max({quote.quote(column.name)}) FROM {qualified})) "
                "FROM pg_get_serial_sequence(:table, :column) AS s WHERE s IS NOT NULL"),
                {"table": qualified, "column": column.name})
    return stored


def _key(table: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
    pk = [c.name for c in table.primary_key.columns] or list(row)
    return tuple(row.get(c) for c in pk)


def _compare(
    connection: Connection, stage: str, expected: Mapping[str, list[dict[str, Any]]],
    rekeyed: set[str] | None = None,
) -> list[RowMismatch]:
    """Compare stored rows with what the live tables hold now. ``rekeyed`` holds the tables
    whose key changed type at an earlier step (their rows get new keys, also when the type
    changes back); tables found so now are added to it."""
    rekeyed = set() if rekeyed is None else rekeyed
    live = {t.name: t for t in reflect_tables(connection)}
    out: list[RowMismatch] = []
    for name, rows in expected.items():
        if not rows:
            continue
        table = live.get(name)
        if table is None:
            out.append(RowMismatch(stage, name, None, "*", f"{len(rows)} rows", "no such table"))
            continue
        columns = [c for c in rows[0] if c in table.c]
        for gone in (c for c in rows[0] if c not in table.c):
            out.append(RowMismatch(stage, name, gone, "*", "column", "no such column"))
        if not columns:
            continue
        pk_names = [c.name for c in table.primary_key.columns] or columns
        found: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for live_row in connection.execute(select(*(table.c[c] for c in columns))).mappings():
            values = dict(live_row)
            found.setdefault(tuple(values.get(c) for c in pk_names), []).append(values)
        if name in rekeyed or _key_type_changed(rows, found, pk_names):
            rekeyed.add(name)
            moved = [fk.parent.name for fk in table.foreign_keys
                     if fk.column.table.name in rekeyed]  # references to new keys
            out += _by_unchanged_columns(stage, name, rows, found, [*pk_names, *moved])
            continue
        for row in rows:
            key = tuple(row.get(c) for c in pk_names)
            label = ", ".join(f"{c}={_short(v)}" for c, v in zip(pk_names, key, strict=True))
            candidates = found.get(key)
            if not candidates:
                out.append(RowMismatch(stage, name, None, label, "row", "missing"))
                continue
            got = candidates.pop(0)
            for column in columns:
                if got[column] != row[column]:
                    out.append(RowMismatch(stage, name, column, label, row[column], got[column]))
    return out


def _key_type_changed(rows: list[dict[str, Any]], found: dict[tuple[Any, ...], Any],
                      pk_names: list[str]) -> bool:
    """Whether the table's key holds values of another type than the generated rows had (an
    int key moved to uuid): then no row can be found by its old key."""
    if not rows or not found:
        return False
    old = tuple(type(rows[0].get(c)) for c in pk_names)
    new = tuple(type(v) for v in next(iter(found)))
    return old != new


def _by_unchanged_columns(stage: str, name: str, rows: list[dict[str, Any]],
                          found: dict[tuple[Any, ...], list[dict[str, Any]]],
                          key_names: list[str]) -> list[RowMismatch]:
    """Track rows whose key changed type by the columns whose type did not (foreign keys to
    a changed key change too): a row found by them is kept; one that is not is reported as not
    traceable, since a loss cannot be told from a changed value."""
    live_rows = [r for group in found.values() for r in group]
    sample = live_rows[0]
    same = [c for c in rows[0] if c not in key_names and c in sample
            and type(rows[0][c]) is type(sample[c])]
    unmatched = [tuple(r[c] for c in same) for r in live_rows]
    out: list[RowMismatch] = []
    why = "not traceable (primary key type changed)"
    for row in rows:
        label = ", ".join(f"{c}={_short(row.get(c))}" for c in key_names[:1])
        values = tuple(row[c] for c in same)
        if same and values in unmatched:
            unmatched.remove(values)
        else:
            out.append(RowMismatch(stage, name, None, label, "row", why, traceable=False))
    return out


def _truncate(connection: Connection, tables: Sequence[Table]) -> None:
    if tables:
        names = ", ".join(connection.dialect.identifier_preparer.quote(t.name) for t in tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _round_trip(runner: MigrationRunner, revision: str, plan: TableRows
                ) -> tuple[list[RowMismatch], int]:
    """Insert at R, upgrade head, compare, downgrade to R, compare; always ends empty at R."""
    try:
        with runner.connect() as connection:
            try:
                stored = _insert(connection, plan)
            except (IntegrityError, DataError) as exc:
                raise _Rejected(str(exc).splitlines()[0]) from exc
            connection.commit()
        rows = sum(len(r) for r in stored.values())
        mismatches: list[RowMismatch] = []

        seen: set[tuple[str, str | None, str]] = set()
        rekeyed: set[str] = set()

        def compare(step: str, rev: str) -> None:
            # Compare after every single step, so a loss names the revision that caused it;
            # a loss is reported once, at the first step where it shows.
            with runner.connect() as connection:
                found = _compare(connection, f"after {step} {runner.describe(rev)}", stored,
                                 rekeyed)
            for m in found:
                if (m.table, m.column, m.key) not in seen:
                    seen.add((m.table, m.column, m.key))
                    mismatches.append(m)

        try:
            runner.upgrade("head", on_step=lambda rev: compare("upgrade", rev))
            runner.downgrade(revision, on_step=lambda rev: compare("downgrade", rev))
        except MigrationError as exc:
            if isinstance(exc.error, IntegrityError | DataError):
                raise RowsRefusedError(runner.describe(revision), exc, stored) from exc
            raise
        return mismatches, rows
    finally:
        if runner.current() != revision:
            runner.downgrade(revision)
        with runner.connect() as connection:
            _truncate(connection, reflect_tables(connection))
            connection.commit()


class GraphSource(Protocol):
    """Where the rows come from: a Hypothesis strategy, and one deterministic boundary graph;
    both FK-consistent, parents first, for the tables given in dependency order."""

    def plans(self, tables: Sequence[Table]) -> st.SearchStrategy[TableRows]:
        """Return a strategy of row graphs for ``tables``."""
        ...

    def boundary(self, tables: Sequence[Table]) -> TableRows:
        """Return one graph of edge values for ``tables``."""
        ...


@dataclass(frozen=True)
class _StrategiesSource:
    max_rows: int = 4

    def plans(self, tables: Sequence[Table]) -> st.SearchStrategy[TableRows]:
        return table_graphs(tables, max_rows=self.max_rows)

    def boundary(self, tables: Sequence[Table]) -> TableRows:
        return boundary_graph(tables)


def strategies_source(max_rows: int = 4) -> GraphSource:
    """The default :class:`GraphSource`: :func:`schemafuzz.strategies.table_graphs` and
    :func:`~schemafuzz.strategies.boundary_graph` over the reflected tables, the same
    generator (catalogue, value strategies, rules) as every other property."""
    return _StrategiesSource(max_rows)


def check_data_preservation(
    runner: MigrationRunner,
    revision: str,
    *,
    source: GraphSource | None = None,
    max_examples: int = 5,
) -> PreservationReport:
    """Check that rows generated at ``revision`` survive ``upgrade head`` and the way back.

    The database at ``runner.url`` is brought to ``revision`` (it should be empty or already
    there). First a deterministic boundary graph (max-length and astral strings, many children),
    then up to ``max_examples`` Hypothesis-generated graphs are inserted; after ``upgrade head``
    and again after ``downgrade`` to ``revision`` every row must still be there and equal in every
    column it had at ``revision``. Returns a :class:`PreservationReport`; raises
    :class:`DataLossError` naming revision, table, column and row on the first example that
    loses data, :class:`RowsRefusedError` if a migration step refuses the generated rows, and
    :class:`~.runner.MigrationError` if a migration step fails otherwise.
    """
    source = source or strategies_source()
    label = runner.describe(revision)
    if runner.current() == "base":
        runner.upgrade(revision)
    with runner.connect() as connection:
        tables = reflect_tables(connection)
    report = PreservationReport(revision=revision, tables=[t.name for t in tables])

    def run(plan: TableRows) -> None:
        mismatches, rows = _round_trip(runner, revision, plan)
        report.examples += 1
        report.rows += rows
        for m in mismatches:
            if not m.traceable:
                note = f"{m.table}: rows not traceable across {m.stage[len('after '):]} " \
                       "(primary key type changed)"
                if note not in report.untraceable:
                    report.untraceable.append(note)
        losses = [m for m in mismatches if m.traceable]
        if losses:
            raise DataLossError(label, losses, rows)

    try:
        run(source.boundary(tables))
    except _Rejected as exc:
        report.rejected += 1
        report.notes.append(f"boundary graph rejected by the database: {exc}")

    @settings(
        max_examples=max_examples,
        deadline=None,
        # Each example costs a full upgrade/downgrade cycle: shrinking would multiply that, and
        # the boundary graph above already gives a small deterministic witness.
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(source.plans(tables))
    def generated(plan: TableRows) -> None:
        try:
            run(plan)
        except _Rejected:
            report.rejected += 1
            reject()

    if max_examples > 0:
        generated()
    return report
