"""The plain-Python model of what the database should hold: rows by table and primary key, and
what the schema's rules make of an insert, an update or a delete (unique collisions, dangling
references, ON DELETE actions applied recursively).

Hand-written because it is the oracle: it must not ask PostgreSQL what PostgreSQL should do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from schemafuzz.targets import ForeignKeyTarget

__all__ = ["DeletePlan", "ExpectedState", "Key", "Ref", "Row"]

Key = tuple[Any, ...]
Row = dict[str, Any]


@dataclass(frozen=True)
class Ref:
    """A row some rule created, as held in a bundle: its table and primary key. The row may
    since have been deleted (by a cascade, say); rules treat such a stale reference as a row
    that no longer exists, which the database must agree with."""

    table: str
    key: Key

    def __repr__(self) -> str:
        shown = ", ".join(str(part)[:8] for part in self.key)
        return f"{self.table}[{shown}]"


@dataclass
class DeletePlan:
    """What deleting one row must do: be refused with ``refused`` (SQLSTATE, and the FK that
    refuses it), or remove ``removed`` rows and null the FK columns of ``nulled`` rows."""

    refused: str | None = None
    refused_by: ForeignKeyTarget | None = None
    removed: dict[str, set[Key]] = field(default_factory=dict)
    nulled: dict[str, dict[Key, tuple[str, ...]]] = field(default_factory=dict)
    cascaded_by: list[ForeignKeyTarget] = field(default_factory=list)

    def removed_count(self) -> int:
        return sum(len(keys) for keys in self.removed.values())

    def describe(self) -> str:
        if self.refused:
            return f"refused with SQLSTATE {self.refused}"
        removed = ", ".join(f"{t}: {len(k)}" for t, k in sorted(self.removed.items()))
        nulled = sum(len(k) for k in self.nulled.values())
        return f"rows removed ({removed}), FKs nulled: {nulled}"


def _unique_column_sets(table: sa.Table) -> list[tuple[str, ...]]:
    """Column sets the schema declares unique: primary key, UNIQUE constraints, unique
    indexes without a WHERE clause (a partial index's predicate is not modelled)."""
    sets = [tuple(c.name for c in table.primary_key.columns)]
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            sets.append(tuple(c.name for c in constraint.columns))
    for index in table.indexes:
        if index.unique and not index.dialect_options["postgresql"].get("where"):
            names = tuple(c.name for c in index.columns)
            if names:
                sets.append(names)
    return [s for s in dict.fromkeys(sets) if s]


class ExpectedState:
    """Rows the database should hold, by table then primary key (column name -> value)."""

    def __init__(self, tables: list[sa.Table], fks: list[ForeignKeyTarget]) -> None:
        self.tables = {str(t.name): t for t in tables}
        self.fks = fks
        self.rows: dict[str, dict[Key, Row]] = {name: {} for name in self.tables}
        self.uniques = {name: _unique_column_sets(t) for name, t in self.tables.items()}

    # ------------------------------------------------------------------ reading
    def key_of(self, table: str, row: Row) -> Key:
        """The primary key of ``row`` in ``table``."""
        return tuple(row[c.name] for c in self.tables[table].primary_key.columns)

    def exists(self, ref: Ref) -> bool:
        """Whether the referenced row should still be in the database."""
        return ref.key in self.rows[ref.table]

    def count(self) -> dict[str, int]:
        """Rows per table."""
        return {name: len(rows) for name, rows in self.rows.items()}

    def collision(self, table: str, record: Row, ignore: Key | None = None
                  ) -> tuple[str, ...] | None:
        """The unique column set on which ``record`` equals a stored row (other than the row
        ``ignore``), or None. NULLs never collide (PostgreSQL's default NULLS DISTINCT)."""
        for columns in self.uniques[table]:
            if any(record.get(c) is None for c in columns):
                continue
            wanted = tuple(record[c] for c in columns)
            for key, row in self.rows[table].items():
                if key != ignore and tuple(row.get(c) for c in columns) == wanted:
                    return columns
        return None

    def dangling(self, table: str, record: Row) -> ForeignKeyTarget | None:
        """The first FK of ``table`` whose (fully non-null) values in ``record`` match no stored
        parent row, or None when every reference resolves."""
        for fk in self.fks:
            if str(fk.child.__table__.name) != table:
                continue
            values = tuple(record.get(c) for c in fk.columns)
            if any(v is None for v in values):
                continue  # MATCH SIMPLE: a NULL in any column exempts the row
            if not self.parent_rows(fk, values):
                return fk
        return None

    def parent_rows(self, fk: ForeignKeyTarget, values: tuple[Any, ...]) -> list[Key]:
        """Keys of stored parent rows whose referenced columns equal ``values``."""
        referenced = [e.column.name for e in fk.constraint.elements]
        parent = str(fk.parent.__table__.name)
        return [key for key, row in self.rows[parent].items()
                if tuple(row[c] for c in referenced) == values]

    def referenced_values(self, fk: ForeignKeyTarget, parent_row: Row) -> tuple[Any, ...]:
        """The values a child of ``parent_row`` holds in the FK's columns."""
        return tuple(parent_row[e.column.name] for e in fk.constraint.elements)

    def children(self, fk: ForeignKeyTarget, parent_row: Row) -> list[Key]:
        """Keys of stored rows of the FK's child table that reference ``parent_row``."""
        values = self.referenced_values(fk, parent_row)
        child = str(fk.child.__table__.name)
        return [key for key, row in self.rows[child].items()
                if tuple(row.get(c) for c in fk.columns) == values]

    # ------------------------------------------------------------------ deletes
    def plan_delete(self, table: str, key: Key) -> DeletePlan:
        """What deleting row ``key`` of ``table`` must do under the declared ON DELETE actions:
        CASCADE removes children (recursively), SET NULL nulls their FK columns (refused with
        23502 when one is NOT NULL), RESTRICT / NO ACTION refuse with 23503 while a child that
        is not itself removed remains. SET DEFAULT is not modelled (planned as SET NULL would
        be, and reported as a difference if the database does otherwise)."""
        plan = DeletePlan()
        if key not in self.rows[table]:
            return plan
        todo = [(table, key)]
        blocking: list[tuple[ForeignKeyTarget, str, Key]] = []
        while todo:
            name, current = todo.pop()
            if current in plan.removed.setdefault(name, set()):
                continue
            plan.removed[name].add(current)
            row = self.rows[name][current]
            for fk in self.fks:
                if str(fk.parent.__table__.name) != name:
                    continue
                child = str(fk.child.__table__.name)
                for child_key in self.children(fk, row):
                    if fk.ondelete == "CASCADE":
                        plan.cascaded_by.append(fk)
                        todo.append((child, child_key))
                    elif fk.ondelete in ("SET NULL", "SET DEFAULT"):
                        plan.nulled.setdefault(child, {})[child_key] = fk.columns
                    else:
                        blocking.append((fk, child, child_key))
        for fk, child, child_key in blocking:
            if child_key not in plan.removed.get(child, set()):
                return DeletePlan(refused="23503", refused_by=fk)
        for child, keys in plan.nulled.items():
            child_table = self.tables[child]
            for child_key, columns in list(keys.items()):
                if child_key in plan.removed.get(child, set()):
                    del keys[child_key]
                elif any(not child_table.c[c].nullable for c in columns):
                    fk = next(f for f in self.fks if f.columns == columns
                              and str(f.child.__table__.name) == child)
                    return DeletePlan(refused="23502", refused_by=fk)
        return plan

    def apply_delete(self, plan: DeletePlan) -> None:
        """Apply a plan that the database carried out."""
        for name, keys in plan.removed.items():
            for key in keys:
                self.rows[name].pop(key, None)
        for name, nulled in plan.nulled.items():
            for key, columns in nulled.items():
                for column in columns:
                    self.rows[name][key][column] = None
