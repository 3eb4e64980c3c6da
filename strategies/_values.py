"""Valid values for one column: the dispatch from value kind to Hypothesis strategy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import struct
import types
import typing
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ._catalogue import ColumnSpec, TableSpec
from ._errors import UnsupportedColumnError
from ._formats import FORMATS
from ._registry import override_for
from ._text import CHARACTERS, texts
from ._types import INT_LIMITS, ValueKind, base_type, kind_of

# Fixed offsets only: zoneinfo datetimes in a DST fold never compare equal across zones,
# which would make "reads back equal" fail for reasons that are not the database's.
OFFSETS = st.sampled_from([
    dt.UTC,
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(dt.timedelta(hours=-8)),
    dt.timezone(dt.timedelta(hours=14)),
    dt.timezone(dt.timedelta(hours=-12)),
    dt.timezone(dt.timedelta(hours=5, minutes=45)),
    dt.timezone(dt.timedelta(hours=-3, minutes=-30)),
])
# Keep a day clear of Python's datetime limits so any offset converts to UTC and back.
MIN_DT = dt.datetime(1, 1, 2)
MAX_DT = dt.datetime(9999, 12, 30, 23, 59, 59, 999999)
JSON_FLOAT_LIMIT = 1e15  # jsonb stores numbers as numeric; keep floats that round-trip


def _edges(lo: int, hi: int) -> list[int]:
    return sorted({v for v in (lo, lo + 1, -1, 0, 1, hi - 1, hi) if lo <= v <= hi})


def _int_bounds(cs: ColumnSpec) -> tuple[int, int]:
    assert cs.kind is not None  # called for integer columns only
    lo, hi = INT_LIMITS[cs.kind]
    if cs.lower is not None:
        b, incl = cs.lower
        lo = max(lo, math.ceil(b) if incl or b != math.ceil(b) else int(b) + 1)
    if cs.upper is not None:
        b, incl = cs.upper
        hi = min(hi, math.floor(b) if incl or b != math.floor(b) else int(b) - 1)
    return lo, hi


def integers(cs: ColumnSpec) -> st.SearchStrategy[int]:
    """Integers within the type limits and every bound, edges (type limits, 0, +-1) often."""
    lo, hi = _int_bounds(cs)
    if lo > hi:
        raise UnsupportedColumnError(cs.table, cs.name, f"no integer satisfies {lo}..{hi}")
    edges = st.sampled_from(_edges(lo, hi))
    return st.one_of(edges, edges, st.integers(lo, hi))  # edges drawn 2 times in 3


def decimals(cs: ColumnSpec) -> st.SearchStrategy[Decimal]:
    """Decimals with at most `places` decimals and `int_digits` whole digits, within bounds."""
    places = cs.places
    step = Decimal(1).scaleb(-(places if places is not None else 6))
    limit = (Decimal(10) ** cs.int_digits - step) if cs.int_digits is not None else Decimal(10**18)
    lo, hi = -limit, limit
    if cs.lower is not None:
        b, incl = Decimal(str(cs.lower[0])), cs.lower[1]
        lo = max(lo, b if incl else b + step)
    if cs.upper is not None:
        b, incl = Decimal(str(cs.upper[0])), cs.upper[1]
        hi = min(hi, b if incl else b - step)
    if places is not None:
        lo = lo.quantize(step, rounding="ROUND_CEILING")
        hi = hi.quantize(step, rounding="ROUND_FLOOR")
    if lo > hi:
        raise UnsupportedColumnError(cs.table, cs.name, f"no decimal satisfies {lo}..{hi}")
    edges = sorted({v for v in (lo, hi, Decimal(0), step, -step) if lo <= v <= hi})
    return st.one_of(
        st.sampled_from(edges),
        st.decimals(lo, hi, places=places if places is not None else None,
                    allow_nan=False, allow_infinity=False),
    )


def _float4_safe(value: float) -> bool:
    # A float4 reads back as a Python float equal to what was sent only if the value is
    # exact in float32 AND prints the same whatever extra_float_digits says (PostgreSQL
    # prints 91660352 as "9.166035e+07" in shortest mode, "91660352" in 9-digit mode):
    # i.e. exact in float32 with at most 6 significant digits.
    if not math.isfinite(value):
        return True
    exact = struct.unpack("f", struct.pack("f", value))[0] == value
    return exact and float(f"{value:.6g}") == value


# Integers of up to 6 digits and short binary fractions: the float4 values that are safe.
FLOAT4_SAFE = (
    st.integers(-999_999, 999_999).map(float)
    | st.tuples(st.integers(-999, 999), st.integers(0, 8)).map(lambda t: t[0] / 2 ** t[1])
    | st.sampled_from([math.inf, -math.inf, 0.5, -0.25, 0.0])
).filter(_float4_safe)


def floats(cs: ColumnSpec) -> st.SearchStrategy[float]:
    """Floats within bounds (and infinities when unbounded); no NaN, which never equals
    itself. `real` columns get the values that read back equal (see _float4_safe)."""
    kw: dict[str, Any] = {"allow_nan": False, "width": 32 if cs.kind == ValueKind.FLOAT4 else 64}
    if cs.lower is not None:
        kw["min_value"], kw["exclude_min"] = float(cs.lower[0]), not cs.lower[1]
    if cs.upper is not None:
        kw["max_value"], kw["exclude_max"] = float(cs.upper[0]), not cs.upper[1]
    if cs.kind == ValueKind.FLOAT4:
        lo, hi = kw.get("min_value", -math.inf), kw.get("max_value", math.inf)
        lo_ok = (lambda v: v > lo) if kw.get("exclude_min") else (lambda v: v >= lo)
        hi_ok = (lambda v: v < hi) if kw.get("exclude_max") else (lambda v: v <= hi)
        return FLOAT4_SAFE.filter(lambda v: lo_ok(v) and hi_ok(v))
    return st.floats(**kw)


# Where drawn instants shrink to (as st.datetimes' do) and the instants often wrong in code
# that handles time: the Unix epoch, a leap day, the last microsecond of a day, 2038's
# 32-bit overflow.
_ORIGIN = dt.datetime(2000, 1, 1)
_DATETIME_EDGES = (dt.datetime(1970, 1, 1), dt.datetime(2000, 2, 29),
                   dt.datetime(1999, 12, 31, 23, 59, 59, 999999),
                   dt.datetime(2038, 1, 19, 3, 14, 8))


_DAY = 86_400_000_000  # microseconds


@functools.lru_cache(maxsize=16)
def naive_datetimes(low: dt.datetime, high: dt.datetime) -> st.SearchStrategy[dt.datetime]:
    """Naive datetimes in [low, high], microsecond precision, the edges often.

    Two choices per value (the day, the microsecond of the day) where ``st.datetimes`` makes
    ten (year, month, day, hour, ... apart), and Hypothesis' time per example grows with its
    choices: a row with two timestamps cost as much to draw as the rest of it. Both shrink
    to 2000-01-01 at midnight, as ``st.datetimes`` does."""
    edges = sorted({low, high, *(d for d in _DATETIME_EDGES if low <= d <= high)})
    days = st.integers((low - _ORIGIN).days, (high - _ORIGIN).days)
    instants = st.tuples(days, st.integers(0, _DAY - 1)).map(
        lambda pair: min(max(_ORIGIN + dt.timedelta(days=pair[0], microseconds=pair[1]),
                             low), high))
    return st.one_of(instants, st.sampled_from(edges))


def _aware(pair: tuple[dt.datetime, dt.tzinfo]) -> dt.datetime:
    return pair[0].replace(tzinfo=pair[1])


def datetimes_tz(cs: ColumnSpec) -> st.SearchStrategy[dt.datetime]:
    """Aware datetimes, microsecond precision, in UTC and other fixed offsets."""
    return st.tuples(naive_datetimes(MIN_DT, MAX_DT), OFFSETS).map(_aware)


def json_values(shape: type | None = None) -> st.SearchStrategy[Any]:
    """JSON documents whose numbers and strings survive jsonb (no NUL, no huge floats); with
    ``shape`` ``dict`` or ``list``, documents of that shape only (what a field annotated
    ``dict[str, Any]`` or ``list[...]`` accepts)."""
    text = st.text(CHARACTERS, max_size=20)
    scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(
        -JSON_FLOAT_LIMIT, JSON_FLOAT_LIMIT, allow_nan=False) | text
    documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                             | st.dictionaries(text, inner, max_size=4), max_leaves=10)
    if shape is dict:
        return st.dictionaries(text, documents, max_size=4)
    if shape is list:
        return st.lists(documents, max_size=4)
    return documents


def _json_shape(cs: ColumnSpec) -> type | None:
    """``dict`` or ``list`` when the model's annotation of a JSON column says so (through
    Optional), else None (any document)."""
    annotation = cs.facts.annotation if cs.facts is not None else None
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (
        typing.Union, types.UnionType) else (annotation,)
    shapes = {typing.get_origin(a) or a for a in options if a is not type(None)}
    return next(iter(shapes)) if len(shapes) == 1 and shapes <= {dict, list} else None


def text_values(cs: ColumnSpec) -> st.SearchStrategy[str]:
    """Text within the length bounds (see `_text.texts`); e-mail addresses and URLs built
    valid (`_formats`); regex patterns via from_regex."""
    if cs.string_format in FORMATS:
        return FORMATS[cs.string_format](cs.min_length, cs.max_length, table=cs.table,
                                         column=cs.name)
    if cs.pattern is not None:
        lo, hi = cs.min_length, cs.max_length
        # fullmatch: with search semantics Python's `$` also matches before a final newline,
        # which Pydantic's regex engine does not accept.
        return st.from_regex(cs.pattern, fullmatch=True).filter(
            lambda s: "\x00" not in s and lo <= len(s) <= (hi if hi is not None else len(s))
            and not (cs.not_blank and s.strip() == "")
            and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in s))
    return texts(cs.min_length, cs.max_length, not_blank=cs.not_blank)


DISPATCH: dict[ValueKind, Callable[[ColumnSpec], st.SearchStrategy[Any]]] = {
    ValueKind.TEXT: text_values,
    ValueKind.SMALLINT: integers,
    ValueKind.INTEGER: integers,
    ValueKind.BIGINT: integers,
    ValueKind.DECIMAL: decimals,
    ValueKind.FLOAT: floats,
    ValueKind.FLOAT4: floats,
    ValueKind.BOOL: lambda cs: st.booleans(),
    ValueKind.DATETIME_TZ: datetimes_tz,
    ValueKind.DATETIME: lambda cs: naive_datetimes(dt.datetime.min, dt.datetime.max),
    ValueKind.DATE: lambda cs: st.dates(),
    ValueKind.TIME: lambda cs: st.times(),
    ValueKind.TIME_TZ: lambda cs: st.times(timezones=OFFSETS),
    ValueKind.INTERVAL: lambda cs: st.timedeltas(-dt.timedelta(days=10**6),
                                                 dt.timedelta(days=10**6)),
    ValueKind.UUID: lambda cs: st.uuids() if cs.as_uuid else st.uuids().map(str),
    ValueKind.JSON: lambda cs: json_values(_json_shape(cs)),
    ValueKind.BYTES: lambda cs: st.binary(max_size=64),
    ValueKind.ARRAY: lambda cs: arrays(cs),
}


def arrays(cs: ColumnSpec) -> st.SearchStrategy[list[Any]]:
    """Lists (one-dimensional arrays, up to 4 items) of values valid for the item type, its
    length limit included (``varchar(20)[]``: items of at most 20 characters)."""
    item_type = base_type(cs.column.type).item_type
    kind, _ = kind_of(item_type)
    assert kind is not None  # kind_of says ARRAY only for supported item kinds
    length = getattr(base_type(item_type), "length", None)
    item = dataclasses.replace(
        cs, kind=kind, min_length=0, max_length=int(length) if length else None,
        not_blank=False, pattern=None, string_format=None, lower=None, upper=None,
        places=None, int_digits=None, enum=None, allowed=None)
    return st.lists(DISPATCH[kind](item), max_size=4)


def value_strategy(cs: ColumnSpec) -> st.SearchStrategy[Any]:
    """Return the strategy of valid non-NULL values of `cs`; raises UnsupportedColumnError."""
    if cs.enum is not None:
        return st.sampled_from(cs.enum.python_values)
    if cs.allowed is not None:
        return st.sampled_from(cs.allowed)
    if cs.kind is None or cs.kind not in DISPATCH:
        raise UnsupportedColumnError(cs.table, cs.name, cs.unsupported or "no strategy")
    return DISPATCH[cs.kind](cs)


def column_values(spec: TableSpec, name: str) -> st.SearchStrategy[Any]:
    """Return valid non-NULL values of one column: the user's override for it when there is
    one, else `value_strategy`; raises UnsupportedColumnError."""
    override = override_for(spec.name, name)
    return override if override is not None else value_strategy(spec.columns[name])
