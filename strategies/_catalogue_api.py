"""`constraints(Model)`: the merged catalogue, for reports."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ._constraint import Constraint
from ._records import spec_of


def constraints(model: type[Any], connection: sa.Connection | None = None) -> list[Constraint]:
    """Return every `Constraint` of `model`'s table, merged over model/metadata/database.

    Without `connection`, the database layer is absent (no Constraint lists DATABASE) and
    unnamed constraints carry PostgreSQL's default names; with it, names and layers come
    from pg_constraint / information_schema / pg_enum, and constraints that exist only in
    the database are included. Constraints that `valid()`/`violations()` cannot honour or
    break have `generated=False` and a `note`. Raises TypeError when `model` is not a
    table model, and `sqlalchemy.exc.DBAPIError` when the catalogue query fails.
    """
    return list(spec_of(model, connection).constraints)
