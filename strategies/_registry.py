"""Per-field strategy overrides and `st.from_type` registration for models."""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

_OVERRIDES: dict[tuple[str, str], st.SearchStrategy[Any]] = {}
_VERSION = [0]  # bumped by every registration: cached strategies built before it are stale


def _table_name(model_or_table: Any) -> str:
    if isinstance(model_or_table, str):
        return model_or_table
    if isinstance(model_or_table, sa.Table):
        return str(model_or_table.name)
    table = getattr(sa.inspect(model_or_table, raiseerr=False), "local_table", None)
    if table is None:
        raise TypeError(f"{model_or_table!r} is not a table model, Table or table name")
    return str(table.name)


def register_field_strategy(
    model_or_table: Any, column: str, strategy: st.SearchStrategy[Any]
) -> None:
    """Use `strategy` for the valid non-NULL values of `column` (emails, slugs, ...).

    `model_or_table` is a SQLModel table class, a `sqlalchemy.Table` or a table name.
    Values drawn from it are still checked against every constraint the catalogue knows and
    rejected when they break one, so an override can narrow the value space but never
    smuggle in invalid data. Returns None; raises TypeError for a non-table argument and
    `hypothesis.errors.InvalidArgument` when `strategy` is not a strategy.
    """
    from hypothesis.errors import InvalidArgument

    if not isinstance(strategy, st.SearchStrategy):
        raise InvalidArgument(f"strategy={strategy!r} must be a SearchStrategy")
    _OVERRIDES[(_table_name(model_or_table), column)] = strategy
    _VERSION[0] += 1


def unregister_field_strategy(model_or_table: Any, column: str) -> None:
    """Forget the override of `column` (if any); raises TypeError as
    `register_field_strategy` does."""
    _OVERRIDES.pop((_table_name(model_or_table), column), None)
    _VERSION[0] += 1


def overrides_version() -> int:
    """Return a number that changes whenever a field strategy is registered."""
    return _VERSION[0]


def override_for(table: str, column: str) -> st.SearchStrategy[Any] | None:
    """Return the registered override for table.column, or None."""
    return _OVERRIDES.get((table, column))


def table_models(module_or_models: types.ModuleType | Iterable[Any]) -> list[Any]:
    """Return the table models (classes with a mapped `__table__`) in a module or iterable."""
    candidates: Iterable[Any] = (
        vars(module_or_models).values()
        if isinstance(module_or_models, types.ModuleType)
        else module_or_models
    )
    out: list[Any] = []
    for obj in candidates:
        is_model = isinstance(obj, type) and isinstance(getattr(obj, "__table__", None), sa.Table)
        if is_model and obj not in out:
            out.append(obj)
    return out
