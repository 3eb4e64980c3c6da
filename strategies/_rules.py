"""Evaluate constraints over candidate rows in Python, to prove "exactly one rule broken".

This is the generator's own bookkeeping: `valid()` rows must break nothing, and a
`Violation` must break exactly the constraint it names. It covers the constraint kinds the
catalogue can express; unrecognised CHECKs are not evaluated (they are reported instead).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from . import _check_expressions
from ._catalogue import ColumnSpec, TableSpec
from ._constraint import Constraint, Kind

Record = dict[str, Any]
Existing = Mapping[str, Sequence[Mapping[str, Any]]]


def stored_form(cs: ColumnSpec | None, value: Any) -> Any:
    """Return what the database stores for `value` (enum members become their labels)."""
    if cs is not None and cs.enum is not None and value is not None:
        for py, label in zip(cs.enum.python_values, cs.enum.labels, strict=True):
            if value is py or (not isinstance(value, enum.Enum) and value == label):
                return label
        if isinstance(value, enum.Enum):
            return f"<{value!r}>"
    return value


def _key(spec: TableSpec, row: Mapping[str, Any], cols: Sequence[str]) -> tuple[Any, ...] | None:
    if any(c not in row for c in cols):
        return None
    vals = tuple(stored_form(spec.columns.get(c), row[c]) for c in cols)
    return None if any(v is None for v in vals) else vals


def _digits(value: Decimal) -> tuple[int, int]:
    """(whole digits, decimal places) the way Pydantic counts them (after normalising)."""
    _, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    places = max(0, -exponent)
    whole = max(0, len(digits) + exponent) if exponent < 0 else len(digits) + exponent
    return whole, places


def satisfied(
    spec: TableSpec,
    c: Constraint,
    record: Mapping[str, Any],
    existing: Existing,
    specs: Mapping[str, TableSpec] | None = None,
) -> bool:
    """True when `record` (about to be inserted after `existing` rows) keeps `c`."""
    if c.kind in (Kind.UNIQUE, Kind.PRIMARY_KEY):
        key = _key(spec, record, c.columns)
        if key is None:  # omitted (database-generated) or NULL (NULLs are distinct)
            return True
        return all(_key(spec, row, c.columns) != key for row in existing.get(spec.name, ()))
    if c.kind == Kind.FOREIGN_KEY:
        key = _key(spec, record, c.columns)
        if key is None:
            return True
        ref = c.params["ref_table"]
        ref_spec = (specs or {}).get(ref, spec if ref == spec.name else None)
        parents = list(existing.get(ref, ()))
        if ref == spec.name:
            parents.append(record)
        ref_cols = c.params["ref_columns"]
        return any(
            _key(ref_spec or spec, row, ref_cols) == key for row in parents
        )
    if c.kind == Kind.CHECK:
        node = c.params.get("node")
        if node is None or any(col not in record for col in c.columns):
            return True
        row = {col: stored_form(spec.columns.get(col), record[col]) for col in c.columns}
        return _check_expressions.passes(node, row)
    if not c.columns or c.columns[0] not in record:
        return True
    cs = spec.columns.get(c.columns[0])
    value = record[c.columns[0]]
    if c.kind == Kind.NOT_NULL:
        return value is not None
    if value is None:
        return True
    p = c.params
    if c.kind == Kind.MAX_LENGTH:
        return len(value) <= p["max"]
    if c.kind == Kind.MIN_LENGTH:
        return len(value) >= p["min"]
    if c.kind == Kind.PATTERN:
        return isinstance(value, str) and re.search(p["pattern"], value) is not None
    if c.kind == Kind.RANGE:
        (op, bound), = p.items()
        return {"ge": value >= bound, "gt": value > bound, "le": value <= bound,
                "lt": value < bound}[op]
    if c.kind == Kind.TYPE:
        if "min" in p:
            return isinstance(value, int) and p["min"] <= value <= p["max"]
        rounded = Decimal(value).quantize(Decimal(1).scaleb(-p["scale"])) if p["scale"] else (
            Decimal(value).to_integral_value())
        return abs(rounded) < Decimal(10) ** p["int_digits"]
    if c.kind == Kind.DIGITS:
        whole, places = _digits(Decimal(value))
        if "places" in p:
            return places <= p["places"]
        return whole + places <= p["max_digits"]
    if c.kind == Kind.ENUM:
        return stored_form(cs, value) in p["labels"] and not (
            p.get("stores") == "values" and isinstance(value, str)
            and value not in p["labels"])
    return True


def broken(
    spec: TableSpec,
    record: Mapping[str, Any],
    existing: Existing,
    specs: Mapping[str, TableSpec] | None = None,
    *,
    skip_fk: bool = False,
) -> list[Constraint]:
    """Return the constraints of `spec` that `record` breaks (evaluable kinds only)."""
    out = []
    for c in spec.constraints:
        if not c.generated or (skip_fk and c.kind == Kind.FOREIGN_KEY):
            continue
        if not satisfied(spec, c, record, existing, specs):
            out.append(c)
    return out
