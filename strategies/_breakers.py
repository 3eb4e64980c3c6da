"""How a rule is broken: per constraint kind, strategies of column patches that break it.

A breaker returns `(strategy of {column: value} patches, note)` pairs; `violations()` draws a
valid row, applies one patch and keeps the result only when exactly the targeted rule is
broken (`_rule_kinds.broken`). `_rule_kinds.RULE_KINDS` says which breaker breaks which kind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from ._catalogue import ColumnSpec, TableSpec
from ._constraint import Constraint
from ._text import CHARACTERS, blank, lengths, texts
from ._types import FLOAT_KINDS, INT_LIMITS, ValueKind
from ._values import column_values

Record = dict[str, Any]
Patch = tuple[st.SearchStrategy[Record], str]
# breaks(spec, constraint, the valid row to patch, the rows inserted before it)
Breaks = Callable[[TableSpec, Constraint, Record, Sequence[tuple[TableSpec, Record]]],
                  list[Patch]]
# A one-column rule broken through its column alone: breaks(constraint, column).
ColumnBreaks = Callable[[Constraint, ColumnSpec], list[Patch]]

# PostgreSQL stores an over-long varchar value whose excess is only spaces by truncating it
# (SQL standard), so such a value is refused by the model alone: a model-only violation.
TRUNCATED = "excess is spaces: PostgreSQL truncates silently instead of raising 22001"


def _patch(values: st.SearchStrategy[Any], column: str, note: str = "") -> Patch:
    return values.map(lambda v: {column: v}), note


# ---------------------------------------------------------------------------- values


def _over_long(n: int) -> st.SearchStrategy[str]:
    """Strings of n+1..n+3 characters whose excess is not all spaces.

    PostgreSQL silently truncates an over-long value for varchar(n) when the excess
    characters are all spaces (SQL standard), so such a value is not a 22001 violation.
    """
    return texts(n + 1, n + 3, not_blank=True).map(
        lambda s: s if s[-1] != " " else s[:-1] + "x")


def _step(cs: ColumnSpec) -> Any:
    """Return the smallest difference between two values of the column worth drawing."""
    if cs.kind in INT_LIMITS:
        return 1
    if cs.kind == ValueKind.DECIMAL:
        return Decimal(1).scaleb(-(cs.places if cs.places is not None else 6))
    return 1e-6 if cs.kind in FLOAT_KINDS else 1


def _outside(bound: Any, inclusive: bool, below: bool, cs: ColumnSpec) -> st.SearchStrategy[Any]:
    unit = _step(cs)
    sign = -1 if below else 1
    base = bound if not inclusive else bound + sign * unit
    if isinstance(base, float) and cs.kind in INT_LIMITS:
        base = int(base)
    return st.sampled_from([base, base + sign * unit * 7])


def _not_in(allowed: list[Any]) -> Any:
    return lambda value: value not in allowed


def _made_of(chars: list[str], min_len: int, max_len: int | None) -> st.SearchStrategy[str]:
    """Strings of only `chars`, length in [max(1, min_len), max_len] (cycled, few choices)."""
    return st.tuples(lengths(max(1, min_len), max_len),
                     st.lists(st.sampled_from(chars), min_size=1, max_size=8)).map(
        lambda t: ("".join(t[1]) * (t[0] // len(t[1]) + 1))[: t[0]])


def _free(cs: ColumnSpec) -> st.SearchStrategy[Any]:
    """Values of the column's storage type ignoring CHECKs (for CHECK violations)."""
    if cs.kind == ValueKind.TEXT:
        length = getattr(cs.column.type, "length", None)
        return texts(0, int(length) if length else 40)
    if cs.kind in INT_LIMITS:
        lo, hi = INT_LIMITS[cs.kind]
        return st.integers(-1000, 1000) | st.integers(lo, hi)
    if cs.kind == ValueKind.DECIMAL:
        return st.decimals(-1000, 1000, places=cs.places if cs.places is not None else 2)
    if cs.kind in FLOAT_KINDS:
        return st.floats(-1e6, 1e6, width=32 if cs.kind == ValueKind.FLOAT4 else 64)
    return st.nothing()


def _bad_labels(cs: ColumnSpec, labels: tuple[str, ...]) -> st.SearchStrategy[str]:
    typ = cs.column.type
    limit = getattr(typ, "length", None) if not getattr(typ, "native_enum", True) else None
    known = [label + "_x" for label in labels] + [label.upper() for label in labels] + [
        " " + label for label in labels] + ["", "x"]
    cands = st.sampled_from(known) | st.text(CHARACTERS, min_size=1, max_size=12)
    return cands.filter(lambda s: s not in labels and (limit is None or len(s) <= limit))


def _relation_breaker(spec: TableSpec, a: str, op: str, b: str, base: Record
                      ) -> st.SearchStrategy[Record]:
    vb = base.get(b)
    if vb is None:
        return st.nothing()
    kind = spec.columns[a].kind
    if isinstance(vb, dt.datetime | dt.date):
        deltas: list[Any] = [dt.timedelta(microseconds=1), dt.timedelta(days=1)]
        if isinstance(vb, dt.date) and not isinstance(vb, dt.datetime):
            deltas = [dt.timedelta(days=1)]
    elif kind in INT_LIMITS:
        deltas = [1, 10]
    elif isinstance(vb, Decimal | float):
        deltas = [_step(spec.columns[a])]
    else:
        return st.nothing()
    sign = -1 if op in (">", ">=") else 1
    values = [vb + sign * d for d in deltas] + ([vb] if op in (">", "<") else [])
    return st.sampled_from(values).map(lambda v: {a: v})


# ---------------------------------------------------------------------------- breakers


def on_column(breaks: ColumnBreaks) -> Breaks:
    """Return the breaker that applies `breaks` to the constraint's one column (no patch
    when the table has no such column)."""
    def on_spec(spec: TableSpec, c: Constraint, base: Record,
                setup: Sequence[tuple[TableSpec, Record]]) -> list[Patch]:
        cs = spec.columns.get(c.columns[0]) if c.columns else None
        return [] if cs is None else breaks(c, cs)
    return on_spec


def null(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return the NULL patch."""
    return [_patch(st.none(), cs.name)]


def too_long(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return over-long values, and for a varchar whose limit the database enforces, values
    whose excess is spaces (PostgreSQL truncates those: model-only, noted TRUNCATED)."""
    n = c.params["max"]
    out = [_patch(_over_long(n), cs.name)]
    if c.sqlstate == "22001" and cs.kind == ValueKind.TEXT:
        out.append(_patch(texts(n, n, not_blank=True).flatmap(
            lambda s: st.integers(1, 3).map(lambda k: s + " " * k)), cs.name, TRUNCATED))
    return out


def too_short(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return values shorter than the minimum (none for a minimum of 0)."""
    n = c.params["min"]
    return [_patch(texts(max(0, n - 2), n - 1, not_blank=True), cs.name)] if n > 0 else []


def unmatched(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return strings within the column's lengths that the regex finds no match in."""
    pattern = c.params["pattern"]
    return [_patch(texts(cs.min_length, cs.max_length, not_blank=cs.not_blank).filter(
        lambda s: re.search(pattern, s) is None), cs.name)]


def out_of_bound(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return values just past the rule's one bound."""
    (op, bound), = c.params.items()
    return [_patch(_outside(bound, op in ("ge", "le"), op in ("ge", "gt"), cs), cs.name)]


def out_of_type(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return integers past the type's limits, or numbers with too many integer digits."""
    p = c.params
    if "min" in p:
        return [_patch(st.sampled_from([p["min"] - 1, p["max"] + 1, p["max"] + 2**40]), cs.name)]
    big = Decimal(10) ** p["int_digits"]
    return [_patch(st.sampled_from([big, -big, big * 10 + 1]), cs.name)]


def too_many_digits(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return numbers with one decimal place too many, or too many digits in all."""
    if "places" in c.params:
        q = Decimal(1).scaleb(-(c.params["places"] + 1))
        return [_patch(st.sampled_from([q, Decimal(1) + q, -q]), cs.name)]
    # Too many digits in the integer part, or in the fraction (1.111…): the second keeps
    # within a numeric(p, s) column's integer digits, which PostgreSQL rounds.
    n = c.params["max_digits"]
    return [_patch(st.sampled_from([Decimal(10) ** n, Decimal("1." + "1" * n)]), cs.name)]


def not_a_label(c: Constraint, cs: ColumnSpec) -> list[Patch]:
    """Return strings outside the enum's labels, and member names where values are stored."""
    out = [_patch(_bad_labels(cs, c.params["labels"]), cs.name, "label outside the enum")]
    if cs.enum is not None and cs.enum.names:
        names = [n for n in cs.enum.names if n not in c.params["labels"]]
        if names:
            out.append(_patch(st.sampled_from(names), cs.name,
                              "member name where values are stored"))
    return out


def duplicate(spec: TableSpec, c: Constraint, base: Record,
              setup: Sequence[tuple[TableSpec, Record]]) -> list[Patch]:
    """Return the key of a row of the same table inserted before (none without one)."""
    same = [r for s, r in setup if s.name == spec.name
            and all(r.get(k) is not None for k in c.columns)]
    if not same:
        return []
    return [(st.sampled_from(same).map(lambda r: {k: r[k] for k in c.columns}),
             "duplicate of an existing row")]


def dangling(spec: TableSpec, c: Constraint, base: Record,
             setup: Sequence[tuple[TableSpec, Record]]) -> list[Patch]:
    """Return keys drawn afresh, which the exactness check keeps only when no parent has
    them."""
    keys = st.tuples(*(column_values(spec, k) for k in c.columns))
    return [(keys.map(lambda vals: dict(zip(c.columns, vals, strict=True))),
             "dangling reference")]


def check_failing(spec: TableSpec, c: Constraint, base: Record,
                  setup: Sequence[tuple[TableSpec, Record]]) -> list[Patch]:
    """Return patches aimed at what the CHECK's parsed hints say (lengths, blanks, bounds,
    allowed values, relations between columns), then free values of each of its columns."""
    out: list[Patch] = []
    hints = c.params.get("hints")
    if hints is not None:
        for k, n in hints.max_length.items():
            out.append(_patch(_over_long(n), k))
        for k, n in hints.min_length.items():
            if n > 0:
                out.append(_patch(texts(max(0, n - 2), n - 1), k))
        for k in hints.not_blank:
            kcs = spec.columns[k]
            out.append(_patch(blank(kcs.min_length, kcs.max_length), k, "spaces only"))
        for k, chars in hints.blank_sets.items():
            kcs = spec.columns[k]
            out.append(_patch(_made_of(sorted(chars), kcs.min_length, kcs.max_length), k,
                              "only characters the regex excludes"))
        for k, (b, incl) in hints.lower.items():
            out.append(_patch(_outside(b, incl, True, spec.columns[k]), k))
        for k, (b, incl) in hints.upper.items():
            out.append(_patch(_outside(b, incl, False, spec.columns[k]), k))
        for k, allowed in hints.allowed.items():
            kcs = spec.columns[k]
            if kcs.kind == ValueKind.TEXT:
                out.append(_patch(st.sampled_from(
                    [*(str(a) + "_x" for a in allowed), "x"]).filter(_not_in(allowed)), k))
            else:
                out.append(_patch(_free(kcs).filter(_not_in(allowed)), k))
        for a, op, b in hints.relations:
            out.append((_relation_breaker(spec, a, op, b, base), "relation reversed"))
    for k in c.columns:  # fallback: storage-type values, filtered by the exactness check
        if k in spec.columns:
            out.append(_patch(_free(spec.columns[k]), k))
    return out
