"""`valid(Model)`: unsaved instances that satisfy every known constraint."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from hypothesis import event, reject
from hypothesis import strategies as st
from pydantic import ValidationError

from ._db_filter import check_filter
from ._records import records, spec_of, to_instance

ParentKeys = Mapping[str | tuple[str, ...], Sequence[Any]]


def valid(
    model: type[Any],
    *,
    parents: ParentKeys | None = None,
    connection: sa.Connection | None = None,
    strict: bool = True,
) -> st.SearchStrategy[Any]:
    """Return a strategy of unsaved `model` instances that satisfy every constraint.

    Values are biased to the edges: lengths 0/1/max-1/max, multi-byte, astral and
    combining characters, whitespace, every enum member, aware datetimes in UTC and other
    offsets, integer type limits. Every instance passed `model.model_validate`.

    Foreign keys: `parents` maps an FK column name (or a tuple of column names for a
    composite FK) to the existing parent keys to choose from (tuples for composite FKs).
    FK columns without an entry are NULL where allowed, else hold a type-valid placeholder
    that does not exist in the parent table: use `graphs()` for FK-consistent rows.

    With `connection`, the live catalogue is merged in and candidate rows are checked by
    PostgreSQL against CHECK constraints this package cannot evaluate in Python.

    Raises `UnsupportedColumnError` for a column type without a strategy (and no default),
    `UnsupportedConstraintError` for an unrecognised CHECK when `strict` and no
    `connection` (strict=False warns with `SkippedConstraintWarning` instead), TypeError
    when `model` is not a table model.
    """
    from ._records import check_supported

    spec = spec_of(model, connection)
    check_supported(spec, strict, connection)
    fk_values: dict[tuple[str, ...], st.SearchStrategy[Any]] = {}
    for key, values in (parents or {}).items():
        cols = (key,) if isinstance(key, str) else tuple(key)
        keys = [v if isinstance(key, tuple) else (v,) for v in values]
        fk_values[cols] = st.sampled_from(keys) if keys else st.nothing()
    db_filter = check_filter(spec, connection) if connection is not None else None
    rows = records(spec, fk_values=fk_values, db_filter=db_filter)

    def instance(record: dict[str, Any]) -> Any:
        try:  # validated once: the instance is the proof that the model accepts the row
            return to_instance(spec, record)
        except (ValidationError, ValueError, TypeError):
            event(f"{spec.name}: model rejected a candidate (custom validator?)")
            reject()

    return rows.map(instance)
