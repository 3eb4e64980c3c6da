"""`graphs(models)`: FK-consistent sets of unsaved instances, parents before children."""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from hypothesis import strategies as st

from ._db_filter import check_filter
from ._records import check_supported, closure, graph, to_instance, with_required_parents
from ._registry import table_models


def graphs(
    models: types.ModuleType | Iterable[type[Any]],
    *,
    max_rows: int = 4,
    min_rows: dict[str, int] | None = None,
    connection: sa.Connection | None = None,
    strict: bool = True,
    lean_ancestors: bool = False,
) -> st.SearchStrategy[list[Any]]:
    """Return lists of unsaved model instances whose FKs all resolve, in insertion order.

    `models` is a module or iterable of table models; the models their FKs reference are
    added automatically (found through the SQLAlchemy registry). Each table gets between
    `min_rows[table]` (default 0) and `max_rows` rows, chosen by Hypothesis, so failures
    shrink to the smallest graph. Self-referencing FKs point at earlier rows of the same
    table (or at the row itself when the FK is NOT NULL). Every primary key and referenced
    column is explicit, so the list can be inserted with `session.add_all` or Core.

    With `lean_ancestors`, a table that is neither among `models` nor in `min_rows` (an
    ancestor added for the FKs) gets exactly the rows a NOT NULL foreign key of the named
    tables' rows needs (none or one), with every column it may omit omitted: for a property
    about some tables, the chain above them only has to exist.

    Raises `UnsupportedColumnError` for an FK cycle between tables that no nullable FK
    breaks, an FK to a table without a model, or an unsupported column type;
    `UnsupportedConstraintError` as `valid()` does.
    """
    chosen = table_models(models)
    order = closure(chosen, connection)
    for spec in order:
        check_supported(spec, strict, connection)
    filters = {s.name: check_filter(s, connection) for s in order} if connection else {}
    ancestors: set[str] = set()
    if lean_ancestors:
        named = {str(m.__table__.name) for m in chosen} | set(min_rows or {})
        ancestors = {s.name for s in order if s.name not in named}
        # Every named table may draw rows, so the ancestors its NOT NULL keys need get one.
        needed = with_required_parents(order, {**{n: 1 for n in named}, **(min_rows or {})})
        min_rows = {**(min_rows or {}), **{a: needed.get(a, 0) for a in ancestors}}
    g = graph(order, min_rows=min_rows, max_rows=max_rows,
              db_filter=(lambda s, r: filters[s.name](r)) if connection else None,
              lean=ancestors, exact=ancestors)
    return g.map(lambda rows: [to_instance(spec, rec) for spec, rec in rows])
