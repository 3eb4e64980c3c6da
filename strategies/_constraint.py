"""The `Constraint` record and the `Layer` that enforces it (the catalogue's vocabulary)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Layer(StrEnum):
    """Where a constraint is enforced."""

    MODEL = "model"  # Pydantic validation (`Model.model_validate`)
    METADATA = "metadata"  # the SQLAlchemy `Table` (what `create_all` / Alembic would build)
    DATABASE = "database"  # the live PostgreSQL catalogue (pg_constraint, information_schema)


class Kind(StrEnum):
    """What a constraint restricts."""

    NOT_NULL = "not_null"
    MAX_LENGTH = "max_length"
    MIN_LENGTH = "min_length"
    PATTERN = "pattern"
    RANGE = "range"
    DIGITS = "digits"
    ENUM = "enum"
    PRIMARY_KEY = "primary_key"
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign_key"
    CHECK = "check"
    SERVER_DEFAULT = "server_default"
    TYPE = "type"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class Constraint:
    """One rule of one table, as the catalogue sees it.

    `rule` names it the way PostgreSQL does (the constraint name from the Table or
    pg_constraint where there is one, else a descriptive name such as ``varchar(200)`` or
    ``NOT NULL``). `layers` says which of model / metadata / database enforce it; `sqlstate`
    is what PostgreSQL raises when it is broken (None when the database is not meant to
    enforce it). `generated` is False when `valid()`/`violations()` cannot honour or break it,
    and `note` then says why.
    """

    table: str
    columns: tuple[str, ...]
    kind: Kind
    rule: str
    layers: frozenset[Layer]
    sqlstate: str | None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    sql: str | None = None
    generated: bool = True
    note: str = ""

    @property
    def enforced_by_database(self) -> bool:
        """True when the metadata or the live database carries this constraint."""
        return bool(self.layers & {Layer.METADATA, Layer.DATABASE}) and self.sqlstate is not None

    def describe(self) -> str:
        """Return a one-line human description: table.columns kind rule [layers]."""
        cols = ",".join(self.columns)
        layers = "/".join(sorted(layer.value for layer in self.layers))
        extra = "" if self.generated else f" (not generated: {self.note})"
        return f"{self.table}.{cols} {self.kind.value} {self.rule!r} [{layers}]{extra}"
