"""One dispatch table from SQLAlchemy column type to a value kind (Hypothesis django-style)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg


class ValueKind(StrEnum):
    """The kind of Python value a column holds, which picks its value strategy."""

    ENUM = "enum"
    BOOL = "bool"
    SMALLINT = "smallint"
    INTEGER = "integer"
    BIGINT = "bigint"
    FLOAT = "float"  # double precision
    FLOAT4 = "float4"  # real
    DECIMAL = "decimal"
    DATETIME = "datetime"
    DATETIME_TZ = "datetime_tz"
    DATE = "date"
    TIME = "time"
    TIME_TZ = "time_tz"
    INTERVAL = "interval"
    UUID = "uuid"
    JSON = "json"
    BYTES = "bytes"
    TEXT = "text"
    ARRAY = "array"


INT_LIMITS: dict[ValueKind, tuple[int, int]] = {
    ValueKind.SMALLINT: (-(2**15), 2**15 - 1),
    ValueKind.INTEGER: (-(2**31), 2**31 - 1),
    ValueKind.BIGINT: (-(2**63), 2**63 - 1),
}
FLOAT_KINDS = frozenset({ValueKind.FLOAT, ValueKind.FLOAT4})
NUMBER_KINDS = frozenset({*INT_LIMITS, ValueKind.DECIMAL, *FLOAT_KINDS})

# Order matters: subclasses before their bases (Enum is a String, Float a Numeric, ...).
_DISPATCH: tuple[tuple[type, ValueKind], ...] = (
    (sa.Enum, ValueKind.ENUM),
    (sa.Boolean, ValueKind.BOOL),
    (sa.SmallInteger, ValueKind.SMALLINT),
    (sa.BigInteger, ValueKind.BIGINT),
    (sa.Integer, ValueKind.INTEGER),
    (sa.Float, ValueKind.FLOAT),
    (sa.Numeric, ValueKind.DECIMAL),
    (sa.DateTime, ValueKind.DATETIME),
    (sa.Date, ValueKind.DATE),
    (sa.Time, ValueKind.TIME),
    (sa.Interval, ValueKind.INTERVAL),
    (sa.Uuid, ValueKind.UUID),
    (sa.JSON, ValueKind.JSON),
    (sa.LargeBinary, ValueKind.BYTES),
    (sa.String, ValueKind.TEXT),
)
# Types that subclass a supported one but behave differently in PostgreSQL.
_REJECT: tuple[tuple[type, str], ...] = (
    (sa.CHAR, "CHAR(n) is blank-padded, so values do not read back equal"),
    (pg.CITEXT, "citext compares case-insensitively; no strategy yet"),
)
# One-dimensional ARRAYs of these item kinds are generated (lists of item values); others are not.
ARRAY_ITEM_KINDS = frozenset({ValueKind.TEXT, *INT_LIMITS, ValueKind.BOOL, ValueKind.DATE})


def base_type(sa_type: Any) -> Any:
    """Return the storage type under TypeDecorators (e.g. SQLModel's AutoString -> String)."""
    seen = 0
    while isinstance(sa_type, sa.types.TypeDecorator) and seen < 10:
        sa_type = sa_type.impl_instance
        seen += 1
    return sa_type


def is_datetime_type(sa_type: Any) -> bool:
    """Whether the column type stores a timestamp, under TypeDecorators too (SQLModel's own
    ``UTCDateTime`` for a ``datetime`` field is one, not a ``DateTime``)."""
    return isinstance(base_type(sa_type), sa.DateTime)


def kind_of(sa_type: Any) -> tuple[ValueKind | None, str]:
    """Return (kind, reason): kind is None with a reason when the type is unsupported."""
    t = base_type(sa_type)
    if isinstance(t, sa.ARRAY):
        item, _ = kind_of(t.item_type)
        if item in ARRAY_ITEM_KINDS and (t.dimensions or 1) == 1:
            return ValueKind.ARRAY, ""
        return None, (f"ARRAY of {sql_type_name(t.item_type)} has no strategy (only "
                      "one-dimensional arrays of text, integers, booleans and dates)")
    for cls, reason in _REJECT:
        if isinstance(t, cls):
            return None, reason
    if isinstance(t, sa.Float) and (isinstance(t, sa.REAL) or (t.precision or 53) <= 24):
        return ValueKind.FLOAT4, ""
    if isinstance(t, sa.Numeric) and not isinstance(t, sa.Float) and not t.asdecimal:
        return None, "Numeric(asdecimal=False) returns floats for exact numbers; no strategy"
    for cls, kind in _DISPATCH:
        if isinstance(t, cls):
            if kind == ValueKind.DATETIME and getattr(t, "timezone", False):
                return ValueKind.DATETIME_TZ, ""
            if kind == ValueKind.TIME and getattr(t, "timezone", False):
                return ValueKind.TIME_TZ, ""
            return kind, ""
    return None, f"column type {sa_type!r} has no strategy"


def sql_type_name(sa_type: Any) -> str:
    """Return the PostgreSQL spelling of `sa_type` (for rule names such as varchar(200))."""
    try:
        return str(base_type(sa_type).compile(dialect=pg.dialect())).lower()
    except Exception:  # a type the PG dialect cannot render
        return type(sa_type).__name__.lower()
