"""Snapshot of a live PostgreSQL catalogue, for comparing two schemas object by object.

Hand-written on purpose: Alembic's autogenerate comparison (``compare_metadata``) does not look
at CHECK constraints, enum labels, functions or triggers, and reflects ON DELETE and server
defaults only loosely. Reading ``pg_catalog`` directly gives one normalised text per object
(``pg_get_constraintdef``, ``pg_get_indexdef``, ``pg_get_triggerdef``, ``format_type``), so two
databases built in different ways (``create_all`` vs ``alembic upgrade``) can be compared
exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

__all__ = ["Catalogue", "Column", "Constraint", "Index", "snapshot"]

#: Tables that belong to Alembic itself, never to the schema under test.
IGNORED_TABLES = frozenset({"alembic_version"})


@dataclass(frozen=True)
class Column:
    """One column as PostgreSQL stores it."""

    table: str
    name: str
    type: str  # format_type(): e.g. "character varying(1000)", "timestamp with time zone"
    nullable: bool
    default: str | None  # pg_get_expr of the default, or None
    identity: str  # "" / "a" (ALWAYS) / "d" (BY DEFAULT)
    generated: str  # "" or "s" (stored generated column)


@dataclass(frozen=True)
class Constraint:
    """A table constraint (p, u, f, c, x), identified by its normalised definition."""

    table: str
    name: str
    kind: str  # pg_constraint.contype
    definition: str  # pg_get_constraintdef()
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    """An index that does not back a constraint, with its definition minus its name."""

    table: str
    name: str
    definition: str
    columns: tuple[str, ...]


@dataclass
class Catalogue:
    """Everything in one schema that a migration can create; ``alembic_version`` excluded."""

    tables: set[str] = field(default_factory=set)
    columns: dict[tuple[str, str], Column] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)  # signature -> definition
    triggers: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, name) -> def
    sequences: set[str] = field(default_factory=set)
    views: dict[str, str] = field(default_factory=dict)

    def column_order(self, table: str) -> list[str]:
        """Return the column names of ``table`` in catalogue order (empty if no such table)."""
        return [name for (t, name) in self.columns if t == table]


_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = :schema
ORDER BY c.relname, con.conname
"""

_INDEXES = """
SELECT t.relname, i.relname, pg_get_indexdef(ix.indexrelid),
       ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.num
             ORDER BY k.ord)
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
SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
FROM pg_type t
JOIN pg_enum e ON e.enumtypid = t.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = :schema
GROUP BY t.typname
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


def snapshot(connection: Connection, schema: str = "public") -> Catalogue:
    """Read the catalogue of ``schema`` through ``connection``.

    Returns a :class:`Catalogue` of tables, columns (type, nullability, default), constraints,
    non-constraint indexes, enum types with ordered labels, functions, triggers, sequences and
    views. Objects of ``alembic_version`` are left out. Raises ``sqlalchemy.exc.DBAPIError`` if
    the catalogue cannot be read.
    """
    params = {"schema": schema}
    cat = Catalogue()
    for name, kind, viewdef in connection.execute(text(_RELATIONS), params):
        if name in IGNORED_TABLES:
            continue
        if kind in ("r", "p"):
            cat.tables.add(name)
        elif kind == "S":
            cat.sequences.add(name)
        else:
            cat.views[name] = viewdef
    for table, name, typ, nullable, default, ident, gen in connection.execute(
        text(_COLUMNS), params
    ):
        if table in IGNORED_TABLES:
            continue
        cat.columns[(table, name)] = Column(table, name, typ, nullable, default, ident, gen)
    for table, name, kind, definition, cols in connection.execute(text(_CONSTRAINTS), params):
        if table in IGNORED_TABLES:
            continue
        cat.constraints.append(Constraint(table, name, kind, definition, tuple(cols)))
    for table, name, definition, cols in connection.execute(text(_INDEXES), params):
        if table in IGNORED_TABLES:
            continue
        cat.indexes.append(Index(table, name, _strip_index_name(definition, name), tuple(cols)))
    for name, labels in connection.execute(text(_ENUMS), params):
        cat.enums[name] = tuple(labels)
    for signature, definition in connection.execute(text(_FUNCTIONS), params):
        cat.functions[signature] = definition
    for table, name, definition in connection.execute(text(_TRIGGERS), params):
        cat.triggers[(table, name)] = definition
    return cat
