"""Ask PostgreSQL whether a candidate row passes the CHECKs Python cannot evaluate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from ._catalogue import TableSpec
from ._constraint import Kind
from ._rules import stored_form


def check_filter(spec: TableSpec, connection: sa.Connection) -> Callable[[dict[str, Any]], bool]:
    """Return a predicate: True when every unrecognised CHECK of `spec` accepts the row.

    The CHECK text is evaluated by PostgreSQL over a one-row derived table whose columns
    carry the table's own types (CAST of bound parameters), so no data is written. Omitted
    columns are evaluated as their column default would be unknown: the row is rejected if
    such a CHECK references them.
    """
    checks = [c for c in spec.of_kind(Kind.CHECK) if not c.generated and c.sql]
    if not checks:
        return lambda record: True
    table = spec.table

    def accepts(record: dict[str, Any]) -> bool:
        if any(col not in record for col in spec.columns if spec.columns[col].kind):
            return False
        cols = [sa.cast(sa.bindparam(f"p{i}", stored_form(spec.columns[c], record[c]),
                                     type_=table.c[c].type), table.c[c].type).label(c)
                for i, c in enumerate(record)]
        sub = sa.select(*cols).subquery("t")
        for c in checks:
            expr = str(c.sql).strip()
            if expr.upper().startswith("CHECK"):
                expr = expr[5:]
            stmt = sa.select(sa.text(f"coalesce(({expr}), true)")).select_from(sub)
            if not connection.execute(stmt).scalar_one():
                return False
        return True

    return accepts
