"""What the generic properties run over: the constraints and foreign keys of the table models
under test, known at collection time (no database needed) so each gets its own test id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from schemafuzz.strategies import Constraint, Kind, constraints, violations

__all__ = [
    "ForeignKeyTarget",
    "Violable",
    "enforced_on_flush",
    "fills_when_none",
    "foreign_keys",
    "violable_constraints",
]

@dataclass(frozen=True)
class Violable:
    """One constraint of one model that ``violations()`` can break on its own."""

    model: type[Any]
    constraint: Constraint

    @property
    def test_id(self) -> str:
        return f"{self.constraint.table}.{','.join(self.constraint.columns)}:{self.constraint.rule}"


def violable_constraints(models: list[type[Any]]) -> tuple[list[Violable], list[Constraint]]:
    """Split every constraint of ``models`` into those ``violations()`` can break alone and
    the rest (reported as not exercised with violations, never silently dropped)."""
    violable: list[Violable] = []
    others: list[Constraint] = []
    for model in models:
        for constraint in constraints(model):
            if constraint.kind in (Kind.SERVER_DEFAULT, Kind.UNSUPPORTED):
                others.append(constraint)
                continue
            try:
                violations(model, constraint=constraint)
            except ValueError:
                others.append(constraint)
                continue
            violable.append(Violable(model, constraint))
    return violable, others


def enforced_on_flush(violable: Violable) -> bool:
    """Whether an ORM flush of an instance breaking this rule must be refused: the database
    enforces the rule, and it is not a NOT NULL that the ORM satisfies itself by applying the
    column's default (Python or server side) in place of a None."""
    constraint = violable.constraint
    if constraint.sqlstate is None:
        return False
    if constraint.kind == Kind.NOT_NULL:
        table: sa.Table = violable.model.__table__
        return not any(fills_when_none(table, name) for name in constraint.columns)
    return True


def fills_when_none(table: sa.Table, column: str) -> bool:
    """Whether a None for this column means "let the default fill it": a Python or server
    default, or an autoincrementing primary key (``id: int | None = Field(default=None,
    primary_key=True)``, the usual SQLModel pattern)."""
    col = table.c[column]
    return (col.default is not None or col.server_default is not None
            or table.autoincrement_column is col)


def database_generated_key(table: sa.Table, column: str) -> bool:
    """Whether ``column`` is a key the database generates (serial, identity) that the app
    never supplies: a value out of its type's range is not the app's to refuse."""
    col = table.c[column]
    return bool(col.primary_key) and (table.autoincrement_column is col
                                      or col.identity is not None)


@dataclass(frozen=True)
class ForeignKeyTarget:
    """A foreign key between two mapped models, with the action the metadata declares."""

    child: type[Any]
    parent: type[Any]
    constraint: sa.ForeignKeyConstraint

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.constraint.columns)

    @property
    def ondelete(self) -> str:
        return (self.constraint.ondelete or "NO ACTION").upper()

    @property
    def name(self) -> str:
        """The constraint's name; an unnamed one by PostgreSQL's default (table_columns_fkey)."""
        name = self.constraint.name
        if name is None or type(name).__name__ == "_NoneName":
            table = self.child.__table__.name
            return "_".join((table, *self.columns, "fkey")).encode()[:63].decode(errors="ignore")
        return str(name)

    @property
    def test_id(self) -> str:
        return f"{self.child.__table__.name}.{','.join(self.columns)}->{self.parent.__table__.name}"


def foreign_keys(models: list[type[Any]]) -> list[ForeignKeyTarget]:
    """Every FK whose both ends are among ``models`` (self-references included)."""
    by_table = {model.__table__.name: model for model in models}
    found = []
    for child in models:
        for fk in child.__table__.foreign_key_constraints:
            parent = by_table.get(fk.referred_table.name)
            if parent is not None:
                found.append(ForeignKeyTarget(child, parent, fk))
    return found
