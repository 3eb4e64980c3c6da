"""The rule book: for each constraint kind, how a row is checked against it and how it is
broken, in one table, so that supporting a new kind is one entry here.

How a kind is *read* is not an entry: the catalogue (`_catalogue.build_table`) merges what
the model, the SQLAlchemy column and the live catalogue say about one column in one function
per family (lengths, numbers, enums), and reads a table's constraints from the metadata and
pg_constraint together. One read yields rules of several kinds (a numeric column a TYPE, a
RANGE and a DIGITS rule; a pg_constraint row a CHECK, a UNIQUE or a FOREIGN KEY), so reading
is organised by source, not by kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from . import _breakers as breaks
from . import _rules as keeps
from ._breakers import Breaks
from ._catalogue import TableSpec
from ._constraint import Constraint, Kind
from ._rules import Existing, Keeps


@dataclass(frozen=True)
class RuleKind:
    """How the generator handles one kind of constraint.

    `keeps` says whether a candidate row keeps a rule of this kind; `breaks` gives the
    patches that break one (None: `violations()` never targets the kind); `rows_needed` is
    how many rows of the rule's own table a violation needs (a duplicate needs its original).
    """

    keeps: Keeps
    breaks: Breaks | None = None
    rows_needed: int = 1


RULE_KINDS: Mapping[Kind, RuleKind] = MappingProxyType({
    Kind.NOT_NULL: RuleKind(keeps.not_null, breaks.on_column(breaks.null)),
    Kind.MAX_LENGTH: RuleKind(keeps.on_value(keeps.short_enough),
                              breaks.on_column(breaks.too_long)),
    Kind.MIN_LENGTH: RuleKind(keeps.on_value(keeps.long_enough),
                              breaks.on_column(breaks.too_short)),
    Kind.PATTERN: RuleKind(keeps.on_value(keeps.matches), breaks.on_column(breaks.unmatched)),
    Kind.RANGE: RuleKind(keeps.on_value(keeps.within_bound),
                         breaks.on_column(breaks.out_of_bound)),
    Kind.TYPE: RuleKind(keeps.on_value(keeps.fits_type), breaks.on_column(breaks.out_of_type)),
    Kind.DIGITS: RuleKind(keeps.on_value(keeps.few_enough_digits),
                          breaks.on_column(breaks.too_many_digits)),
    Kind.ENUM: RuleKind(keeps.on_value(keeps.a_label), breaks.on_column(breaks.not_a_label)),
    Kind.PRIMARY_KEY: RuleKind(keeps.distinct, breaks.duplicate, rows_needed=2),
    Kind.UNIQUE: RuleKind(keeps.distinct, breaks.duplicate, rows_needed=2),
    Kind.FOREIGN_KEY: RuleKind(keeps.referenced, breaks.dangling),
    Kind.CHECK: RuleKind(keeps.check_passes, breaks.check_failing),
    # Not rules over row values: a server default fills a column, an unsupported type or
    # constraint is reported by the catalogue instead.
    Kind.SERVER_DEFAULT: RuleKind(keeps.unchecked),
    Kind.UNSUPPORTED: RuleKind(keeps.unchecked),
})
VIOLABLE_KINDS = frozenset(kind for kind, entry in RULE_KINDS.items() if entry.breaks)


def satisfied(
    spec: TableSpec,
    c: Constraint,
    record: Mapping[str, Any],
    existing: Existing,
    specs: Mapping[str, TableSpec] | None = None,
) -> bool:
    """Return True when `record` (about to be inserted after `existing` rows) keeps `c`."""
    return RULE_KINDS[c.kind].keeps(spec, c, record, existing, specs)


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
