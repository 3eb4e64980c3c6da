"""Hypothesis strategies derived from the constraints of any SQLModel application.

Public API: `valid`, `violations`, `Violation`, `graphs`, `table_graphs` and `boundary_graph`
(the same rows for tables known only from their ``Table``, e.g. reflected at an old
revision), `constraints`, `Constraint`, `table_models` (the table models of a module),
`Layer`, `Kind`, `from_json_schema`, `register_models`, `register_field_strategy`,
`unregister_field_strategy`, `model_rejection` (why ``model_validate`` refuses a row keyed
by column name), `validate_fields` (``model_validate`` that works around SQLModel
reading relationships such as ``items`` from a dict), `generation_obstacles` (why values could
not be generated), `read_live_schema` (the one reader of a live PostgreSQL schema: a
`LiveSchema` of `LiveColumn`, `LiveConstraint` and `LiveIndex`), and the errors
`UnsupportedColumnError`, `UnsupportedConstraintError`, `SkippedConstraintWarning`.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from ._catalogue_api import constraints
from ._constraint import Constraint, Kind, Layer
from ._errors import (
    SkippedConstraintWarning,
    StrategyError,
    UnsupportedColumnError,
    UnsupportedConstraintError,
)
from ._graphs import graphs
from ._jsonschema import from_json_schema
from ._live_schema import LiveColumn, LiveConstraint, LiveIndex, LiveSchema, read_live_schema
from ._records import generation_obstacles, model_rejection, validate_fields
from ._registry import register_field_strategy, table_models, unregister_field_strategy
from ._table_graphs import TableRows, boundary_graph, table_graphs
from ._valid import valid
from ._violations import Violation, violations

__all__ = [
    "Constraint",
    "Kind",
    "Layer",
    "LiveColumn",
    "LiveConstraint",
    "LiveIndex",
    "LiveSchema",
    "SkippedConstraintWarning",
    "StrategyError",
    "TableRows",
    "UnsupportedColumnError",
    "UnsupportedConstraintError",
    "Violation",
    "boundary_graph",
    "constraints",
    "from_json_schema",
    "generation_obstacles",
    "graphs",
    "model_rejection",
    "read_live_schema",
    "register_field_strategy",
    "register_models",
    "table_graphs",
    "table_models",
    "unregister_field_strategy",
    "valid",
    "validate_fields",
    "violations",
]


def register_models(module_or_models: types.ModuleType | Iterable[type[Any]]) -> list[type[Any]]:
    """Register `valid(Model)` for every table model so `st.from_type(Model)` works.

    Accepts a module (its table models are found) or an iterable of models. Returns the
    models registered. Registration is lazy (`st.deferred`), so models whose columns are
    unsupported only raise when drawn from; the error names the table and column.
    """
    models = table_models(module_or_models)
    for model in models:
        st.register_type_strategy(model, st.deferred(_valid_of(model)))
    return models


def _valid_of(model: type[Any]) -> Any:
    return lambda: valid(model)
