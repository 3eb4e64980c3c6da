"""`table_graphs(tables)` and `boundary_graph(tables)`: rows for tables known only from their
SQLAlchemy ``Table``, such as tables reflected from a database at an old revision that no
model describes. Built from the same catalogue, value strategies and rules as
`graphs(models)`; only the model layer is absent."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from hypothesis import find, settings
from hypothesis import strategies as st

from . import _catalogue
from ._catalogue import ColumnSpec, TableSpec
from ._records import Record, _plan_of, check_supported, graph
from ._rule_kinds import broken
from ._types import INT_LIMITS, ValueKind
from ._values import _int_bounds

TableRows = list[tuple[sa.Table, dict[str, Any]]]

#: The edge characters of the boundary graph: outside the BMP (4 bytes in UTF-8, 2 UTF-16
#: units) and two bytes in UTF-8.
_ASTRAL, _TWO_BYTES = "\U0001d11e", "é"
_UNBOUNDED_TEXT = 2000  # the length of a text with no length bound in sight
MANY_CHILDREN = 25


def _specs(tables: Sequence[sa.Table]) -> list[TableSpec]:
    specs = [_catalogue.build_table(table) for table in tables]
    for spec in specs:
        check_supported(spec, strict=False)
    return specs


def table_graphs(tables: Sequence[sa.Table], *, max_rows: int = 4,
                 min_rows: Mapping[str, int] | None = None) -> st.SearchStrategy[TableRows]:
    """Return a strategy of FK-consistent rows for ``tables`` (given parents first): lists of
    ``(table, row)`` in insertion order, rows keyed by column name, every primary key and
    referenced column explicit. Rows keep every rule the tables declare that `valid()`
    honours (types, lengths, ranges, enum labels, recognised CHECKs, uniqueness); a CHECK it
    does not recognise may still refuse one. Each table gets ``min_rows[name]`` (default: 1
    for a table another one references, else 0) to ``max_rows`` rows.

    Raises `UnsupportedColumnError` for a NOT NULL column of a type no strategy covers.
    """
    specs = _specs(tables)
    referenced = {fk.params["ref_table"] for spec in specs for fk in spec.fks}
    low = {spec.name: 1 for spec in specs if spec.name in referenced} | dict(min_rows or {})
    return graph(specs, min_rows=low, max_rows=max_rows).map(
        lambda rows: [(spec.table, record) for spec, record in rows])


def boundary_graph(tables: Sequence[sa.Table], *, children: int = MANY_CHILDREN) -> TableRows:
    """Return one deterministic FK-consistent graph of edge values for ``tables`` (given
    parents first), as `table_graphs` draws them: three rows per table (strings at their
    maximum length in astral, then two-byte characters, then at their minimum length), and
    ``children`` rows under the first parent of every foreign key (one per parent where the
    foreign key is also unique). A row breaking a rule it was not built to keep (a CHECK
    relating two columns) is left out, and so are the rows that would reference it.

    Raises `UnsupportedColumnError` for a NOT NULL column of a type no strategy covers.
    """
    specs = _specs(tables)
    by_name = {spec.name: spec for spec in specs}
    rows: dict[str, list[Record]] = {}
    out: TableRows = []
    for spec in specs:
        plan = _plan_of(spec)
        parents = [fk for fk in spec.fks if fk.params["ref_table"] != spec.name]
        one_each = {fk.columns for fk in parents
                    if any(set(u.columns) <= set(fk.columns) for u in spec.unique_sets)}
        count = children if parents else 3
        for fk in parents:
            if fk.columns in one_each:
                count = min(count, len(rows.get(fk.params["ref_table"], [])))
        own: list[Record] = []
        for n in range(count):
            record = {name: _edge(spec.columns[name], strategy, n)
                      for name, strategy in plan.strategies.items() if name not in plan.fk_cols}
            if not _reference(spec, record, rows, own, n, one_each):
                continue
            if broken(spec, record, {**rows, spec.name: own}, by_name):
                continue
            own.append(record)
            out.append((spec.table, record))
        rows[spec.name] = own
    return out


def _reference(spec: TableSpec, record: Record, rows: Mapping[str, list[Record]],
               own: list[Record], n: int, one_each: set[tuple[str, ...]]) -> bool:
    """Fill ``record``'s FK columns: the first parent row (row ``n`` for a one-to-one FK),
    NULL for a self-reference that allows it, the row itself for one that does not; False
    when a NOT NULL FK has no parent row."""
    for fk in spec.fks:
        ref, ref_columns = fk.params["ref_table"], fk.params["ref_columns"]
        nullable = all(spec.columns[c].nullable for c in fk.columns)
        if ref == spec.name:
            values = (None if nullable else tuple(record.get(c) for c in ref_columns))
        elif rows.get(ref):
            parent = rows[ref][n if fk.columns in one_each else 0]
            values = tuple(parent.get(c) for c in ref_columns)
        elif nullable:
            values = None
        else:
            return False
        for i, column in enumerate(fk.columns):
            record[column] = None if values is None else values[i]
    return True


def _edge(cs: ColumnSpec, strategy: st.SearchStrategy[Any], n: int) -> Any:
    """The edge value of row ``n`` for one column (distinct per row where the type allows,
    so unique columns stay unique); the strategy's simplest value for the other types."""
    if cs.enum is not None:
        return cs.enum.python_values[n % len(cs.enum.python_values)]
    if cs.allowed:
        return cs.allowed[n % len(cs.allowed)]
    if cs.kind == ValueKind.TEXT and cs.pattern is None and cs.string_format is None:
        longest = cs.max_length if cs.max_length is not None else _UNBOUNDED_TEXT
        edge = ((_ASTRAL if n % 2 == 0 else _TWO_BYTES) * longest if n % 3 != 2
                else "x" * max(cs.min_length, 1))
        # Past the first three rows, the row number leads, so unique columns stay unique.
        return edge if n < 3 else (f"{n}" + edge)[:max(longest, len(str(n)))]
    if cs.kind in INT_LIMITS:
        low, high = _int_bounds(cs)
        return max(low, 1) + n if max(low, 1) + n <= high else high - n
    if cs.kind == ValueKind.UUID:
        value = uuid.UUID(int=n + 1)
        return value if cs.as_uuid else str(value)
    if cs.kind in (ValueKind.DATETIME_TZ, ValueKind.DATETIME):
        instant = dt.datetime(2000, 1, 1, 0, 0, 0, 999999) + dt.timedelta(days=n)
        return instant.replace(tzinfo=dt.UTC) if cs.kind == ValueKind.DATETIME_TZ else instant
    if cs.kind == ValueKind.BOOL:
        return n % 2 == 0
    return _simplest(strategy)


@functools.lru_cache(maxsize=256)
def _simplest(strategy: st.SearchStrategy[Any]) -> Any:
    """The value Hypothesis shrinks ``strategy`` to (``find`` is its public way to ask)."""
    return find(strategy, lambda _value: True,
                settings=settings(database=None, max_examples=10))
