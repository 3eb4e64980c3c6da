"""The one reader of a live PostgreSQL schema: tables, columns, constraints, indexes, enums,
functions, triggers, sequences and views, as one immutable :class:`LiveSchema` snapshot.

Everything that needs the catalogue of the schema under test reads it here: the strategies'
live layer (one table at a time, :meth:`LiveSchema.table`), the schema comparisons and
migration round trips (:func:`schemafuzz.migrations.diff_live_schemas` of two snapshots) and the
mutant generator of ``bench/mutants.py``.

Hand-written on purpose: SQLAlchemy's inspector reflects no CHECK definitions as PostgreSQL
normalises them, no triggers or functions, and ON DELETE only loosely; Alembic's autogenerate
comparison looks at neither CHECKs nor enum labels. ``pg_catalog`` gives one normalised text
per object (``pg_get_constraintdef``, ``pg_get_indexdef``, ``pg_get_triggerdef``,
``format_type``), so two databases built in different ways (``create_all`` and ``alembic
upgrade``) compare exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

import sqlalchemy as sa

__all__ = [
    "IGNORED_TABLES",
    "LiveColumn",
    "LiveConstraint",
    "LiveIndex",
    "LiveSchema",
    "LiveTable",
    "memoised",
    "read_live_schema",
    "reading_once",
]

#: Tables that belong to Alembic itself, never to the schema under test: never read.
IGNORED_TABLES = frozenset({"alembic_version"})

#: pg_constraint.confdeltype -> the ON DELETE action it stands for.
ON_DELETE_ACTIONS = MappingProxyType({
    "a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT",
})


@dataclass(frozen=True)
class LiveColumn:
    """One column as PostgreSQL stores it."""

    table: str
    name: str
    type: str  # format_type(): e.g. "character varying(1000)", "timestamp with time zone"
    nullable: bool
    default: str | None  # pg_get_expr of the default, or None
    identity: str = ""  # "" / "a" (ALWAYS) / "d" (BY DEFAULT)
    generated: str = ""  # "" or "s" (stored generated column)
    data_type: str = ""  # information_schema's name: "character varying", "USER-DEFINED", ...
    udt_name: str = ""  # the type's own name: "varchar", "timestamptz", an enum's name
    char_max: int | None = None  # varchar(n) / char(n): n
    numeric_precision: int | None = None
    numeric_scale: int | None = None
    enum_labels: tuple[str, ...] | None = None  # the labels, in order, of an enum column


@dataclass(frozen=True)
class LiveConstraint:
    """A table constraint (p, u, f, c, x), identified by its normalised definition. In the
    per-table view of :meth:`LiveSchema.table`, a unique index backing no constraint is one too:
    kind ``i``, or ``x`` when it is partial or over expressions (reported, never generated)."""

    table: str
    name: str
    kind: str  # pg_constraint.contype
    definition: str  # pg_get_constraintdef()
    columns: tuple[str, ...]
    expression: str | None = None  # a CHECK's expression, without "CHECK (...)"
    ondelete: str | None = None  # a foreign key's ON DELETE action, e.g. "CASCADE"
    ref_table: str | None = None  # the table a foreign key references
    ref_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveIndex:
    """An index that backs no primary key, unique or exclusion constraint."""

    table: str
    name: str
    definition: str  # pg_get_indexdef() without the index's own name, so shapes compare
    columns: tuple[str, ...]  # the indexed columns, in order (expressions left out)
    unique: bool = False
    partial: bool = False  # has a WHERE clause or indexes expressions


@dataclass(frozen=True)
class LiveTable:
    """What PostgreSQL says about one table; ``exists`` is False when it is not there."""

    name: str
    exists: bool
    columns: Mapping[str, LiveColumn] = field(default_factory=dict)
    constraints: tuple[LiveConstraint, ...] = ()


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType(dict(value))
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    if isinstance(value, list):
        return tuple(value)
    return value


@dataclass(frozen=True)
class LiveSchema:
    """Everything in one schema that a migration can create; ``alembic_version`` excluded.
    Immutable: build a changed copy with :func:`dataclasses.replace`."""

    tables: frozenset[str] = frozenset()
    columns: Mapping[tuple[str, str], LiveColumn] = field(default_factory=dict)
    constraints: tuple[LiveConstraint, ...] = ()
    indexes: tuple[LiveIndex, ...] = ()
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    functions: Mapping[str, str] = field(default_factory=dict)  # signature -> definition
    triggers: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (table, name) -> def
    sequences: frozenset[str] = frozenset()
    views: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def column_order(self, table: str) -> list[str]:
        """Return the column names of ``table`` in catalogue order (empty if no such table)."""
        return [name for (t, name) in self.columns if t == table]

    def table(self, name: str) -> LiveTable:
        """The per-table view the strategies' live layer merges: columns by name, constraints,
        and unique indexes backing no constraint (kind ``i``, or ``x`` when partial)."""
        if name not in self.tables:
            return LiveTable(name=name, exists=False)
        columns = {c.name: c for (t, _), c in self.columns.items() if t == name}
        constraints = [c for c in self.constraints if c.table == name]
        constraints += [LiveConstraint(name, index.name, "x" if index.partial else "i",
                                       index.definition, index.columns)
                        for index in self.indexes if index.table == name and index.unique]
        return LiveTable(name=name, exists=True, columns=columns, constraints=tuple(constraints))


_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       i.data_type, i.udt_name, i.character_maximum_length, i.numeric_precision,
       i.numeric_scale, ty.oid IN (SELECT enumtypid FROM pg_enum) AS is_enum
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN information_schema.columns i
       ON i.table_schema = n.nspname AND i.table_name = c.relname AND i.column_name = a.attname
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END,
       con.confdeltype::text, rc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[]
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
WHERE n.nspname = :schema
ORDER BY c.relname, con.conname
"""

_INDEXES = """
SELECT t.relname, i.relname, pg_get_indexdef(ix.indexrelid),
       ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       ix.indisunique, ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = :schema
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid
                  AND con.contype IN ('p', 'u', 'x'))
ORDER BY t.relname, i.relname
"""

_ENUMS = """
SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = :schema
GROUP BY t.typname
ORDER BY t.typname
"""

_FUNCTIONS = """
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       pg_get_functiondef(p.oid)
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = :schema AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""

_TRIGGERS = """
SELECT c.relname, tg.tgname, pg_get_triggerdef(tg.oid)
FROM pg_trigger tg
JOIN pg_class c ON c.oid = tg.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND NOT tg.tgisinternal
ORDER BY c.relname, tg.tgname
"""

_RELATIONS = """
SELECT c.relname, c.relkind::text,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
"""


def _strip_index_name(definition: str, name: str) -> str:
    """Drop the index's own name from ``CREATE INDEX name ON ...`` so defs compare by shape."""
    return re.sub(rf'INDEX "?{re.escape(name)}"? ON', "INDEX ON", definition, count=1)


# What reading_once() blocks have read and built, keyed by what it is ("catalogue", the
# database's URL, the schema) and kept in the dict the block was given.
_READ_ONCE: ContextVar[dict[Hashable, Any] | None] = ContextVar(
    "schemafuzz_read_once", default=None)
_Built = TypeVar("_Built")


@contextmanager
def reading_once(memo: dict[Hashable, Any] | None = None) -> Iterator[None]:
    """Within the block, :func:`read_live_schema` reads each database's catalogue once and
    returns that again, and :func:`memoised` builds once what is built from it: building the
    strategies of one table builds the spec of every table its rows reference, and each spec
    asked for the whole catalogue (measured: 7 reads per test on a 16-table schema, a third of
    the test's set-up). Only for blocks that change no schema object.

    With ``memo``, what was read and built is kept in it for the next block given the same
    dict: for a caller that knows no schema object changes between its blocks either (the
    properties' sandboxes roll back all they do, so the schema under test is the same for the
    whole run); without, it is forgotten when the block ends."""
    token = _READ_ONCE.set({} if memo is None else memo)
    try:
        yield
    finally:
        _READ_ONCE.reset(token)


def memoised(key: Hashable, build: Callable[[], _Built]) -> _Built:
    """Return ``build()``; inside a :func:`reading_once` block, what it returned for ``key``
    in that block's memo before (``key`` must name everything the result depends on)."""
    memo = _READ_ONCE.get()
    if memo is None:
        return build()
    if key not in memo:
        memo[key] = build()
    built: _Built = memo[key]
    return built


def read_live_schema(connection: sa.Connection, schema: str | None = None) -> LiveSchema:
    """Read the catalogue of ``schema`` (default: the connection's current schema).

    Returns a :class:`LiveSchema` of tables, columns (type, nullability, default, identity,
    enum labels), constraints (with ON DELETE and referenced columns), indexes backing no
    constraint, enum types with ordered labels, functions, triggers, sequences and views.
    Objects of ``alembic_version`` are left out; inside :func:`reading_once`, what was read
    before from the same database. Raises ``sqlalchemy.exc.DBAPIError`` if the catalogue
    cannot be read.
    """
    return memoised(("catalogue", connection.engine.url, schema),
                    lambda: _read(connection, schema))


def _read(connection: sa.Connection, schema: str | None) -> LiveSchema:
    if schema is None:
        schema = str(connection.execute(sa.text("SELECT current_schema()")).scalar_one())
    params = {"schema": schema}

    def rows(query: str) -> list[Any]:
        return list(connection.execute(sa.text(query), params))

    tables: set[str] = set()
    sequences: set[str] = set()
    views: dict[str, str] = {}
    for name, kind, viewdef in rows(_RELATIONS):
        if name in IGNORED_TABLES:
            continue
        if kind in ("r", "p"):
            tables.add(name)
        elif kind == "S":
            sequences.add(name)
        else:
            views[name] = viewdef
    enums = {name: tuple(labels) for name, labels in rows(_ENUMS)}
    columns: dict[tuple[str, str], LiveColumn] = {}
    for (table, name, typ, nullable, default, ident, gen, data_type, udt, char_max, precision,
         scale, is_enum) in rows(_COLUMNS):
        if table in IGNORED_TABLES:
            continue
        columns[(table, name)] = LiveColumn(
            table, name, typ, nullable, default, ident, gen, data_type or "", udt or "",
            char_max, precision, scale, enums.get(udt) if is_enum else None)
    constraints = [
        LiveConstraint(table, name, kind, definition, tuple(cols), expression,
                       ON_DELETE_ACTIONS.get(action) if kind == "f" else None, ref_table,
                       tuple(ref_cols or ()))
        for table, name, kind, definition, cols, expression, action, ref_table, ref_cols
        in rows(_CONSTRAINTS) if table not in IGNORED_TABLES
    ]
    indexes = [
        LiveIndex(table, name, _strip_index_name(definition, name), tuple(cols or ()),
                  bool(unique), bool(partial))
        for table, name, definition, cols, unique, partial in rows(_INDEXES)
        if table not in IGNORED_TABLES
    ]
    return LiveSchema(
        tables=frozenset(tables), columns=columns, constraints=tuple(constraints),
        indexes=tuple(indexes), enums=enums,
        functions={signature: definition for signature, definition in rows(_FUNCTIONS)},
        triggers={(table, name): definition for table, name, definition in rows(_TRIGGERS)},
        sequences=frozenset(sequences), views=views,
    )
