"""What the schema under test looked like in the database, kept in the run's ledger so the
report's diagram shows what was tested (a drifted ``--schemafuzz-schema sql:`` dump is drawn
with its own types, not the models').

The catalogue is read with SQLAlchemy's inspector; the snapshot is plain JSON (it travels in
the ledger from xdist workers and shards to the process that writes the report), and
:func:`snapshot_metadata` turns it back into a MetaData that paracelsus can draw.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import UserDefinedType

__all__ = ["PostgresName", "postgres_type_name", "read_snapshot", "snapshot_metadata"]

Snapshot = dict[str, Any]  # {"source": how it was built, "tables": {name: {...}}}


class PostgresName(UserDefinedType[Any]):
    """A stand-in column type that prints as the given PostgreSQL type name."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


def postgres_type_name(column_type: sa.types.TypeEngine[Any]) -> str:
    """``column_type`` as PostgreSQL spells it (``TIMESTAMP WITH TIME ZONE``, ``UUID``)."""
    try:
        return str(column_type.compile(dialect=postgresql.dialect()))
    except sa.exc.CompileError:
        return str(column_type)


def read_snapshot(connection: sa.Connection, source: str) -> Snapshot:
    """Read the tables of ``connection``'s default schema: columns (PostgreSQL type, NOT NULL,
    primary key, enum labels), foreign keys with ON DELETE, and unique constraints. ``source``
    says how the schema was built (``migrations``, ``metadata``, ``sql:PATH``). Returns the
    JSON-ready snapshot; raises SQLAlchemy's errors when the catalogue cannot be read."""
    inspector = sa.inspect(connection)
    tables: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        if name == "alembic_version":
            continue
        primary = set(inspector.get_pk_constraint(name).get("constrained_columns") or ())
        columns = [
            {"name": column["name"], "type": postgres_type_name(column["type"]),
             "nullable": bool(column["nullable"]), "primary_key": column["name"] in primary,
             "labels": list(getattr(column["type"], "enums", None) or ())}
            for column in inspector.get_columns(name)
        ]
        keys = [
            {"columns": list(key["constrained_columns"]), "table": key["referred_table"],
             "referred": list(key["referred_columns"]),
             "ondelete": (key.get("options") or {}).get("ondelete") or "NO ACTION"}
            for key in inspector.get_foreign_keys(name)
        ]
        unique = [list(u["column_names"]) for u in inspector.get_unique_constraints(name)]
        tables[name] = {"columns": columns, "foreign_keys": keys, "unique": unique}
    return {"source": source, "tables": tables}


def snapshot_metadata(snapshot: Snapshot) -> sa.MetaData:
    """A MetaData with the snapshot's tables: each column typed as the database spells it
    (enums as ``sa.Enum`` with their labels), NOT NULL, primary and foreign keys with their
    ON DELETE, single-column unique constraints. Foreign keys to tables outside the snapshot
    are left out."""
    metadata = sa.MetaData()
    tables = snapshot["tables"]
    for name, table in tables.items():
        singles = {tuple(columns) for columns in table["unique"] if len(columns) == 1}
        columns = [
            sa.Column(c["name"],
                      sa.Enum(*c["labels"], name=c["type"]) if c["labels"]
                      else PostgresName(c["type"]),
                      primary_key=c["primary_key"], nullable=c["nullable"],
                      unique=(c["name"],) in singles or None)
            for c in table["columns"]
        ]
        keys = [
            sa.ForeignKeyConstraint(key["columns"],
                                    [f"{key['table']}.{column}" for column in key["referred"]],
                                    ondelete=key["ondelete"])
            for key in table["foreign_keys"] if key["table"] in tables
        ]
        sa.Table(name, metadata, *columns, *keys)
    return metadata
