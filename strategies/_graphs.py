"""`graphs(models)`: FK-consistent sets of unsaved instances, parents before children."""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from ._db_filter import check_filter
from ._records import check_supported, closure, graph, to_instance
from ._registry import table_models


def graphs(
    models: types.ModuleType | Iterable[type[Any]],
    *,
    max_rows: int = 4,
    min_rows: dict[str, int] | None = None,
    connection: sa.Connection | None = None,
    strict: bool = True,
) -> st.SearchStrategy[list[Any]]:
    """Return lists of unsaved model instances whose FKs all resolve, in insertion order.

    `models` is a module or iterable of table models; the models their FKs reference are
    added automatically (found through the SQLAlchemy registry). Each table gets between
    `min_rows[table]` (default 0) and `max_rows` rows, chosen by Hypothesis, so failures
    shrink to the smallest graph. Self-referencing FKs point at earlier rows of the same
    table (or at the row itself when the FK is NOT NULL). Every primary key and referenced
    column is explicit, so the list can be inserted with `session.add_all` or Core.

    Raises `UnsupportedColumnError` for an FK cycle between tables that no nullable FK
    breaks, an FK to a table without a model, or an unsupported column type;
    `UnsupportedConstraintError` as `valid()` does.
    """
    order = closure(table_models(models), connection)
    for spec in order:
        check_supported(spec, strict, connection)
    filters = {s.name: check_filter(s, connection) for s in order} if connection else {}
    g = graph(order, min_rows=min_rows, max_rows=max_rows,
              db_filter=(lambda s, r: filters[s.name](r)) if connection else None)
    return g.map(lambda rows: [to_instance(spec, rec) for spec, rec in rows])
