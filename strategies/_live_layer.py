"""Read the live PostgreSQL catalogue for one table (pg_constraint, pg_enum, information_schema)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

_FK_ACTIONS = {
    "a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT",
}


@dataclass
class LiveColumn:
    """One row of information_schema.columns (plus enum labels from pg_enum)."""

    name: str
    nullable: bool
    data_type: str
    udt_name: str
    char_max: int | None
    numeric_precision: int | None
    numeric_scale: int | None
    default: str | None
    identity: str | None  # 'ALWAYS' / 'BY DEFAULT' / None
    enum_labels: tuple[str, ...] | None


@dataclass
class LiveConstraint:
    """One row of pg_constraint (or a unique index without a constraint)."""

    name: str
    kind: str  # p, u, f, c, x, or 'i' for a bare unique index
    columns: tuple[str, ...]
    definition: str
    ondelete: str | None = None
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()


@dataclass
class LiveTable:
    """What PostgreSQL says about one table; `exists` is False when it is not there."""

    name: str
    exists: bool
    columns: dict[str, LiveColumn] = field(default_factory=dict)
    constraints: list[LiveConstraint] = field(default_factory=list)


def read_table(connection: sa.Connection, table: str, schema: str | None = None) -> LiveTable:
    """Return the live catalogue of `table`; raises `sqlalchemy.exc.DBAPIError` on DB errors."""
    params = {"t": table, "s": schema}
    cols = connection.execute(
        sa.text(
            "SELECT column_name, is_nullable, data_type, udt_name, character_maximum_length,"
            " numeric_precision, numeric_scale, column_default, identity_generation"
            " FROM information_schema.columns"
            " WHERE table_name = :t AND table_schema = coalesce(:s, current_schema())"
            " ORDER BY ordinal_position"
        ),
        params,
    ).all()
    live = LiveTable(name=table, exists=bool(cols))
    if not cols:
        return live
    for row in cols:
        labels = None
        if row.data_type == "USER-DEFINED":
            found = connection.execute(
                sa.text(
                    "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
                    " WHERE t.typname = :u ORDER BY e.enumsortorder"
                ),
                {"u": row.udt_name},
            ).scalars().all()
            labels = tuple(found) if found else None
        live.columns[row.column_name] = LiveColumn(
            name=row.column_name,
            nullable=row.is_nullable == "YES",
            data_type=row.data_type,
            udt_name=row.udt_name,
            char_max=row.character_maximum_length,
            numeric_precision=row.numeric_precision,
            numeric_scale=row.numeric_scale,
            default=row.column_default,
            identity=row.identity_generation,
            enum_labels=labels,
        )
    rows = connection.execute(
        sa.text(
            "SELECT c.conname, c.contype, pg_get_constraintdef(c.oid) AS def, c.confdeltype,"
            " (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(c.conkey) WITH ORDINALITY"
            "   k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols,"
            " rt.relname AS ref_table,"
            " (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(c.confkey) WITH ORDINALITY"
            "   k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n)"
            "   AS ref_cols"
            " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " JOIN pg_namespace n ON n.oid = t.relnamespace"
            " LEFT JOIN pg_class rt ON rt.oid = c.confrelid"
            " WHERE t.relname = :t AND n.nspname = coalesce(:s, current_schema())"
            " ORDER BY c.conname"
        ),
        params,
    ).all()
    for row in rows:
        live.constraints.append(
            LiveConstraint(
                name=row[0],
                kind=row[1],
                columns=tuple(row[4] or ()),
                definition=row[2],
                ondelete=_FK_ACTIONS.get(row[3]) if row[1] == "f" else None,
                ref_table=row[5],
                ref_columns=tuple(row[6] or ()),
            )
        )
    indexes = connection.execute(
        sa.text(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid),"
            " (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(x.indkey::int2[])"
            "   WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = x.indrelid"
            "   AND a.attnum = k.n) AS cols, x.indpred IS NOT NULL OR x.indexprs IS NOT NULL"
            " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
            " WHERE t.relname = :t AND n.nspname = coalesce(:s, current_schema())"
            " AND x.indisunique AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
        ),
        params,
    ).all()
    for name, definition, icols, partial in indexes:
        if partial:  # partial / expression unique indexes: reported, not generated
            live.constraints.append(LiveConstraint(name, "x", tuple(icols or ()), definition))
        else:
            live.constraints.append(LiveConstraint(name, "i", tuple(icols or ()), definition))
    return live
