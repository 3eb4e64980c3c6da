"""Whether a candidate row keeps a rule, evaluated in Python, one function per constraint kind.

This is the generator's own bookkeeping: `valid()` rows must break nothing, and a
`Violation` must break exactly the constraint it names. `_rule_kinds.RULE_KINDS` says which
function checks which kind; unrecognised CHECKs are not evaluated (they are reported instead).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from . import _check_expressions
from ._catalogue import ColumnSpec, TableSpec
from ._constraint import Constraint

Record = dict[str, Any]
Existing = Mapping[str, Sequence[Mapping[str, Any]]]
# keeps(spec, constraint, record, existing rows by table, all specs by name): True when the
# record, inserted after the existing rows, keeps the constraint.
Keeps = Callable[
    [TableSpec, Constraint, Mapping[str, Any], Existing, Mapping[str, TableSpec] | None], bool]
# A one-column rule judged on its non-NULL value alone: test(constraint, column, value).
ValueTest = Callable[[Constraint, ColumnSpec | None, Any], bool]


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


# ---------------------------------------------------------------------------- row rules


def unchecked(spec: TableSpec, c: Constraint, record: Mapping[str, Any], existing: Existing,
              specs: Mapping[str, TableSpec] | None) -> bool:
    """Return True: the kind is not a rule over row values (a server default, an unsupported
    type or constraint), so no candidate breaks it."""
    return True


def distinct(spec: TableSpec, c: Constraint, record: Mapping[str, Any], existing: Existing,
             specs: Mapping[str, TableSpec] | None) -> bool:
    """Return whether the record's key (unique or primary) differs from every existing row's.

    An omitted (database-generated) or NULL key keeps the rule: NULLs are distinct."""
    key = _key(spec, record, c.columns)
    if key is None:
        return True
    return all(_key(spec, row, c.columns) != key for row in existing.get(spec.name, ()))


def referenced(spec: TableSpec, c: Constraint, record: Mapping[str, Any], existing: Existing,
               specs: Mapping[str, TableSpec] | None) -> bool:
    """Return whether the record's foreign key matches an existing parent row (or the record
    itself, through a self-reference); a NULL or omitted key keeps the rule."""
    key = _key(spec, record, c.columns)
    if key is None:
        return True
    ref = c.params["ref_table"]
    ref_spec = (specs or {}).get(ref, spec if ref == spec.name else None)
    parents = list(existing.get(ref, ()))
    if ref == spec.name:
        parents.append(record)
    ref_cols = c.params["ref_columns"]
    return any(_key(ref_spec or spec, row, ref_cols) == key for row in parents)


def check_passes(spec: TableSpec, c: Constraint, record: Mapping[str, Any], existing: Existing,
                 specs: Mapping[str, TableSpec] | None) -> bool:
    """Return whether the CHECK's parsed expression holds on the record's stored values; an
    unparsed CHECK, or one over a column the record omits, is not evaluated (True)."""
    node = c.params.get("node")
    if node is None or any(col not in record for col in c.columns):
        return True
    row = {col: stored_form(spec.columns.get(col), record[col]) for col in c.columns}
    return _check_expressions.passes(node, row)


def not_null(spec: TableSpec, c: Constraint, record: Mapping[str, Any], existing: Existing,
             specs: Mapping[str, TableSpec] | None) -> bool:
    """Return whether the record's value of the column is not NULL (omitted: kept)."""
    return not c.columns or c.columns[0] not in record or record[c.columns[0]] is not None


def on_value(test: ValueTest) -> Keeps:
    """Return the row rule that applies `test` to the record's non-NULL value of the
    constraint's one column (an omitted or NULL value keeps it)."""
    def keeps(spec: TableSpec, c: Constraint, record: Mapping[str, Any], existing: Existing,
              specs: Mapping[str, TableSpec] | None) -> bool:
        if not c.columns or record.get(c.columns[0]) is None:
            return True
        return test(c, spec.columns.get(c.columns[0]), record[c.columns[0]])
    return keeps


# ---------------------------------------------------------------------------- value tests


def short_enough(c: Constraint, cs: ColumnSpec | None, value: Any) -> bool:
    """Return whether `value` has at most the rule's maximum length."""
    return len(value) <= c.params["max"]


def long_enough(c: Constraint, cs: ColumnSpec | None, value: Any) -> bool:
    """Return whether `value` has at least the rule's minimum length."""
    return len(value) >= c.params["min"]


def matches(c: Constraint, cs: ColumnSpec | None, value: Any) -> bool:
    """Return whether `value` is a string the rule's regex finds a match in."""
    return isinstance(value, str) and re.search(c.params["pattern"], value) is not None


def within_bound(c: Constraint, cs: ColumnSpec | None, value: Any) -> bool:
    """Return whether `value` keeps the rule's one bound (ge, gt, le or lt)."""
    (op, bound), = c.params.items()
    return {"ge": value >= bound, "gt": value > bound, "le": value <= bound,
            "lt": value < bound}[op]


def fits_type(c: Constraint, cs: ColumnSpec | None, value: Any) -> bool:
    """Return whether `value` fits the column type: an integer within the type's limits, or a
    number whose rounding to the type's scale has at most its integer digits."""
    p = c.params
    if "min" in p:
        return isinstance(value, int) and p["min"] <= value <= p["max"]
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-p["scale"])) if p["scale"] else (
        Decimal(value).to_integral_value())
    return abs(rounded) < Decimal(10) ** p["int_digits"]


def few_enough_digits(c: Constraint, cs: ColumnSpec | None, value: Any) -> bool:
    """Return whether `value` has at most the rule's decimal places, or digits in all."""
    whole, places = _digits(Decimal(value))
    if "places" in c.params:
        return places <= c.params["places"]
    return whole + places <= c.params["max_digits"]


def a_label(c: Constraint, cs: ColumnSpec | None, value: Any) -> bool:
    """Return whether `value` is stored as one of the enum's labels (a member's name is not a
    label when the enum stores values)."""
    p = c.params
    return stored_form(cs, value) in p["labels"] and not (
        p.get("stores") == "values" and isinstance(value, str) and value not in p["labels"])
