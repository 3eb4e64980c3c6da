"""Schema equality: the database built by ``upgrade head`` versus the one built by the models.

Two layers, because neither alone is enough:

* Alembic's ``compare_metadata`` (what ``alembic check`` runs) compares the models' ``MetaData``
  with the migrated database: tables, columns, types, nullability, indexes, unique constraints
  and foreign keys. Server defaults are left to the catalogue layer (Alembic's server-default
  comparison is heuristic and noisy on PostgreSQL).
* It does not see CHECK constraints, enum labels, functions or triggers, and may miss ON DELETE
  or timestamp time-zone changes, so :func:`compare_schema` also builds the models' schema with
  ``create_all`` in a second fresh database and compares the two live catalogues object by object
  (:mod:`.catalogue`, :mod:`.diff`).
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from ..findings import FindingError
from ..strategies import read_live_schema
from ..strategies._live_schema import IGNORED_TABLES
from .diff import Difference, diff_live_schemas

__all__ = ["SchemaMismatchError", "alembic_differences", "compare_schema", "create_models_schema"]


class SchemaMismatchError(FindingError):
    """The migrated schema differs from the models; lists each difference by table and column."""

    def __init__(
        self, differences: list[Difference], culprits: dict[Difference, str] | None = None
    ) -> None:
        self.differences = differences
        self.culprits = culprits or {}
        lines = "\n  ".join(
            f"{d} [{self.culprits[d]}]" if d in self.culprits else str(d) for d in differences
        )
        super().__init__(
            f"{len(differences)} difference(s) between the models and the schema "
            f"built by the migrations:\n  {lines}"
        )


def _described(obj: Any, columns: list[str]) -> str:
    """An index or constraint as a reader wants it: kind, name and columns (and the columns a
    foreign key references), never SQLAlchemy's repr of its column collections."""
    kind = type(obj).__name__
    name = getattr(obj, "name", None)
    named = f" {name}" if isinstance(name, str) and name else ""
    text = f"{kind}{named} ({', '.join(columns)})"
    elements = getattr(obj, "elements", None)
    if elements:
        targets = [e.target_fullname.rsplit(".", 1) for e in elements]
        text += f" REFERENCES {targets[0][0]} ({', '.join(t[-1] for t in targets)})"
    return text


def _describe_alembic(diff: Any) -> Difference:
    """Turn one entry of ``compare_metadata``'s output into a :class:`Difference`."""
    if isinstance(diff, list):  # modify_* entries come grouped per column
        diff = diff[0]
    op = diff[0]
    labels = ("models", "migrations")
    if op in ("add_table", "remove_table"):
        table = diff[1]
        models, migrations = ("present", None) if op == "add_table" else (None, "present")
        return Difference("table (alembic)", table.name, None, table.name, models, migrations,
                          *labels)
    if op in ("add_column", "remove_column"):
        _, _, tname, column = diff
        models, migrations = ("present", None) if op == "add_column" else (None, "present")
        return Difference("column (alembic)", tname, column.name, None, models, migrations,
                          *labels)
    if op.startswith("modify_"):
        _, _, tname, cname, _existing, old, new = diff
        return Difference(f"{op[7:]} (alembic)", tname, cname, None, str(new), str(old), *labels)
    obj = diff[1]
    table = getattr(obj, "table", None)
    cols = [c.name for c in getattr(obj, "columns", [])]
    shown = _described(obj, cols)
    models, migrations = (shown, None) if op.startswith("add_") else (None, shown)
    return Difference(
        f"{op.split('_', 1)[1]} (alembic)",
        getattr(table, "name", None),
        cols[0] if len(cols) == 1 else None,
        getattr(obj, "name", None),
        models,
        migrations,
        *labels,
    )


def alembic_differences(connection: Connection, metadata: MetaData) -> list[Difference]:
    """Return ``compare_metadata(models, live schema)`` as :class:`Difference` objects.

    An empty list is what ``alembic check`` calls "no new upgrade operations". Never raises for
    differences; raises ``sqlalchemy.exc.DBAPIError`` if the database cannot be read.
    """
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": False,
            "include_name": lambda name, kind, _parent: not (
                kind == "table" and name in IGNORED_TABLES
            ),
        },
    )
    return [_describe_alembic(d) for d in compare_metadata(context, metadata)]


def create_models_schema(url: URL, metadata: MetaData) -> None:
    """Build the models' schema in the (empty) database at ``url`` with ``create_all``.

    DDL attached to the metadata with ``event.listen`` (functions, triggers) runs too. Raises
    ``sqlalchemy.exc.DBAPIError`` if the DDL fails.
    """
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            metadata.create_all(connection)
    finally:
        engine.dispose()


def compare_schema(
    migrated: Connection, models_db: Connection, metadata: MetaData
) -> list[Difference]:
    """Return every difference between the migrated database and the models.

    ``migrated`` is on a database after ``upgrade head``; ``models_db`` on one built by
    :func:`create_models_schema`. The result holds the catalogue differences, then those of
    Alembic's own (kinds ending in "(alembic)") that the catalogue did not already report on the
    same table and column: one difference seen by both is one difference. Empty means equal.
    Never raises for differences.
    """
    catalogue = diff_live_schemas(read_live_schema(models_db), read_live_schema(migrated), "models",
                                "migrations")
    return catalogue + [d for d in alembic_differences(migrated, metadata)
                        if not any(_same_object(d, seen) for seen in catalogue)]


def _same_object(alembic: Difference, catalogue: Difference) -> bool:
    """Whether an Alembic difference is about what a catalogue difference already names: the
    same column, or the same table when neither names a column and the kinds agree."""
    if alembic.table != catalogue.table:
        return False
    if alembic.column is not None:
        return alembic.column == catalogue.column
    stem = alembic.kind.split()[0].replace("foreignkey", "foreign")
    return catalogue.column is None and catalogue.kind.startswith(stem)
