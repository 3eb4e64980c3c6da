"""The simplest valid value of a column, worked out without drawing: what a parent row that
only has to exist holds (see ``_records.pinned_row``).

Hypothesis has no public way to ask a strategy for its simplest value inside a running test
(``find()`` there nests one engine in another, which its ``nested_given`` health check
refuses, and ``.example()`` is random), so the few kinds a parent's required columns usually
have get a value here; every other kind returns ``NO_VALUE`` and its row is drawn as before.
A value given here is only a candidate: the row is kept only if it passes the same checks a
drawn row passes (every rule of the three layers, and the model's validation).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, Final

from ._catalogue import ColumnSpec
from ._types import INT_LIMITS, ValueKind
from ._values import _ORIGIN

__all__ = ["NO_VALUE", "simplest_value"]

NO_VALUE: Final = object()  # the column's kind has no simplest value here: draw the row

_EMAIL_TAIL = "@a.io"  # a domain email-validator accepts (not a special-use name)


def _zero_or_bound(cs: ColumnSpec, whole: bool) -> int | None:
    """0 when the column's bounds allow it, else the nearest whole value within the bound
    that excludes 0 (past an exclusive bound only for a `whole`-number column); None when
    there is none such (a fractional or exclusive bound of a decimal column: drawn)."""
    for bound, side in ((cs.lower, 1), (cs.upper, -1)):
        if bound is None:
            continue
        value, inclusive = bound
        if (value * side < 0) or (value == 0 and inclusive):
            continue  # 0 is within this bound
        if value != int(value):
            return None
        if inclusive:
            return int(value)
        return int(value) + side if whole else None
    return 0


def _text(cs: ColumnSpec) -> Any:
    if cs.pattern is not None or cs.string_format not in (None, "email"):
        return NO_VALUE
    size = max(cs.min_length, 1)  # never blank: a CHECK that the text is not blank is usual
    if cs.string_format == "email":
        value = "a" * max(1, size - len(_EMAIL_TAIL)) + _EMAIL_TAIL
    else:
        value = "a" * size
    return value if cs.max_length is None or len(value) <= cs.max_length else NO_VALUE


def simplest_value(cs: ColumnSpec) -> Any:
    """Return a simple non-NULL value of ``cs``'s kind within its declared bounds (the first
    enum member or allowed value, False, 0 or the bound nearest it, ``"a"`` repeated to the
    minimum length, the nil-like version-4 UUID, 2000-01-01), or ``NO_VALUE`` when the kind
    or its rule (a regex, a URL) has none here. Never raises."""
    if cs.enum is not None:
        return cs.enum.python_values[0] if cs.enum.python_values else NO_VALUE
    if cs.allowed is not None:
        return cs.allowed[0] if cs.allowed else NO_VALUE
    kind = cs.kind
    if kind in INT_LIMITS or kind == ValueKind.DECIMAL:
        try:
            value = _zero_or_bound(cs, whole=kind != ValueKind.DECIMAL)
        except (TypeError, ValueError, OverflowError):  # a bound that is not a number
            return NO_VALUE
        if value is None:
            return NO_VALUE
        return Decimal(value) if kind == ValueKind.DECIMAL else value
    simple: dict[ValueKind, Any] = {
        ValueKind.BOOL: False,
        ValueKind.UUID: uuid.UUID(int=0, version=4) if cs.as_uuid
        else str(uuid.UUID(int=0, version=4)),
        ValueKind.DATETIME: _ORIGIN,
        ValueKind.DATETIME_TZ: _ORIGIN.replace(tzinfo=dt.UTC),
        ValueKind.DATE: _ORIGIN.date(),
    }
    if kind == ValueKind.TEXT:
        return _text(cs)
    return simple.get(kind, NO_VALUE) if kind is not None else NO_VALUE
