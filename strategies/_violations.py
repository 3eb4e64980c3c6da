"""`violations(Model)`: records that break exactly one named constraint."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from hypothesis import assume, event
from hypothesis import strategies as st

from ._breakers import TRUNCATED
from ._catalogue import TableSpec
from ._constraint import Constraint, Kind, Layer
from ._records import (
    closure,
    graph,
    model_accepts,
    note_obstacle,
    spec_of,
    with_required_parents,
)
from ._registry import overrides_version
from ._rule_kinds import RULE_KINDS, VIOLABLE_KINDS, broken

Record = dict[str, Any]


@dataclass(frozen=True)
class Violation:
    """A row that breaks exactly one constraint.

    `record` (keyed by column name; absent keys take their defaults) is meant for a Core
    insert after the `setup` rows (parents, and for unique violations the row it
    duplicates) -- `apply(connection)` does both. `sqlstate` is what PostgreSQL must raise;
    None when the database is not meant to enforce the rule (then `enforced_by` holds only
    MODEL). `model_rejects` says whether `Model.model_validate(record)` raised.
    `also_breaks` lists model-only rules the record breaks as well (never database ones).
    """

    table: str
    column: str
    rule: str
    record: Record
    sqlstate: str | None
    enforced_by: frozenset[Layer] = frozenset()
    model_rejects: bool = False
    setup: tuple[tuple[sa.Table, Record], ...] = ()
    constraint: Constraint | None = field(default=None, compare=False, repr=False)
    also_breaks: tuple[str, ...] = ()
    sa_table: sa.Table | None = field(default=None, compare=False, repr=False)

    def apply(self, connection: sa.Connection) -> None:
        """Insert `setup` then `record` with Core; raises the database's error (DBAPIError).

        Strings bound to Enum columns are sent as plain text, so that PostgreSQL -- not
        SQLAlchemy's client-side `validate_strings` -- judges an invalid label.
        """
        for table, row in self.setup:
            connection.execute(table.insert().values(_params(table, row)))
        assert self.sa_table is not None
        connection.execute(self.sa_table.insert().values(_params(self.sa_table, self.record)))


def _params(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        col = table.c[name]
        if isinstance(col.type, sa.Enum) and isinstance(value, str) and not isinstance(
            value, enum.Enum
        ):
            out[col.key] = sa.literal(value, sa.String())
        else:
            out[col.key] = value
    return out


# ---------------------------------------------------------------------------- public


def _targets(spec: TableSpec) -> list[Constraint]:
    out = []
    for c in spec.constraints:
        if not c.generated or c.kind not in VIOLABLE_KINDS:
            continue
        if c.columns and any(spec.columns[k].db_generated for k in c.columns
                             if k in spec.columns):
            continue
        if _shadowed_by_not_blank(spec, c):
            continue
        out.append(c)
    return out


def _range_repeated(spec: TableSpec, c: Constraint) -> bool:
    """Whether the database (a CHECK, or the column type's range) refuses every value that
    breaks the model-only bound `c`."""
    (op, bound), = c.params.items()
    column = c.columns[0]
    lower = op in ("ge", "gt")
    inclusive = op in ("ge", "le")
    database_bounds: list[tuple[Any, bool]] = []
    for other in spec.of_kind(Kind.CHECK):
        hints = other.params.get("hints")
        found = hints is not None and (hints.lower if lower else hints.upper).get(column)
        if found:
            database_bounds.append(found)
    for other in spec.of_kind(Kind.TYPE):  # the column type's own range (integer widths)
        if other.columns == c.columns and "min" in other.params:
            database_bounds.append((other.params["min" if lower else "max"], True))
    for check_bound, check_inclusive in database_bounds:
        try:
            tighter = check_bound > bound if lower else check_bound < bound
        except TypeError:
            continue
        if tighter or (check_bound == bound and (inclusive or not check_inclusive)):
            return True
    return False


def _shadowed_by_not_blank(spec: TableSpec, c: Constraint) -> bool:
    """Whether `c` cannot be broken alone: a minimum length of 1 on a column that must not
    be blank (the only shorter value, "", is blank too), or a model-only minimum length that
    a database CHECK repeats or exceeds (every shorter value breaks the CHECK as well)."""
    if c.kind == Kind.MIN_LENGTH and c.columns and c.sqlstate is None:
        column, n = c.columns[0], c.params.get("min", 0)
        for other in spec.of_kind(Kind.CHECK):
            hints = other.params.get("hints")
            if hints is not None and hints.min_length.get(column, 0) >= n > 0:
                return True
    if c.kind == Kind.TYPE and c.columns and any(c.columns[0] in f.columns for f in spec.fks):
        return True  # an out-of-range key never matches a parent: it is dangling as well
    if c.kind == Kind.RANGE and c.columns and c.sqlstate is None and _range_repeated(spec, c):
        return True
    if c.kind == Kind.DIGITS and c.columns and "max_digits" in c.params and c.sqlstate is None:
        # Too many digits in all means too many in the fraction (the model's decimal_places
        # rule too) or in the integer part (the numeric(p, s) type too).
        on_column = [o for o in spec.constraints if o.columns == c.columns]
        places = [o.params["places"] for o in on_column if o.kind == Kind.DIGITS
                  and "places" in o.params]
        whole = [o.params["int_digits"] for o in on_column if o.kind == Kind.TYPE
                 and "int_digits" in o.params]
        if places and whole and min(places) + min(whole) <= c.params["max_digits"]:
            return True
    if c.kind == Kind.MIN_LENGTH:
        minimums = {c.columns[0]: c.params.get("min", 0)} if c.columns else {}
    elif c.kind == Kind.CHECK and c.params.get("hints") is not None:
        hints = c.params["hints"]
        if any((hints.max_length, hints.not_blank, hints.blank_sets, hints.lower, hints.upper,
                hints.allowed, hints.not_null, hints.relations, hints.other)):
            return False  # the CHECK says more than a minimum length
        minimums = dict(hints.min_length)
    else:
        return False
    return bool(minimums) and all(
        n <= 1 and k in spec.columns and spec.columns[k].not_blank for k, n in minimums.items())


def violations(
    model: type[Any],
    *,
    connection: sa.Connection | None = None,
    rules: set[str] | None = None,
    constraint: Constraint | None = None,
    max_rows: int = 1,
) -> st.SearchStrategy[Violation]:
    """Return a strategy of `Violation`s of `model`'s table, each breaking one constraint.

    Covers NOT NULL (23502), length (22001), enum labels and member names (22P02, or 23514
    for non-native enums with a CHECK), integer/numeric range (22003), CHECKs (23514),
    unique/primary key duplicates (23505) and dangling FKs (23503), plus model-only rules
    (sqlstate None). `rules` restricts to the named rules; `constraint` to one constraint of
    `constraints(model)` (several may share a rule name, such as each column's "NOT NULL").
    Parent rows come from `graphs()` over the models the FKs reach (found through the
    model's SQLAlchemy registry), one per parent table; they carry only what they must (keys,
    and the columns without a default), since they only have to exist, and where the column
    kinds allow it they are the same simplest valid row in every example (nothing drawn).
    The model's own table gets up to `max_rows` rows, and at least the rows the rule needs
    (two for a duplicate): the default, one, sends no row the violation does not need.

    Raises `UnsupportedColumnError` when a parent model cannot be found or a column has
    no strategy, ValueError when `rules` names nothing violable. A rule that cannot be
    broken alone (e.g. a CHECK shadowed by a tighter varchar length) is simply never
    drawn; see `constraints()` for the catalogue.
    """
    if connection is not None:  # the live catalogue may change between calls: built afresh
        return _violations(model, connection, rules, constraint, max_rows)
    # Properties call violations() inside the test, once per example, with the same
    # arguments; the strategy depends only on them, the model's catalogue (cached by spec_of)
    # and the field overrides (whose version is part of the key).
    key = (model, None if rules is None else frozenset(rules), constraint, max_rows,
           overrides_version())
    if key not in _BUILT:
        _BUILT[key] = _violations(model, None, rules, constraint, max_rows)
    return _BUILT[key]


_BUILT: dict[tuple[Any, ...], st.SearchStrategy[Violation]] = {}


def _violations(model: type[Any], connection: sa.Connection | None,
                rules: set[str] | frozenset[str] | None, constraint: Constraint | None,
                max_rows: int) -> st.SearchStrategy[Violation]:
    spec = spec_of(model, connection)
    order = closure([model], connection)
    specs = {s.name: s for s in order}
    own = next(s for s in order if s.name == spec.name)
    order = [s for s in order if s.name != spec.name] + [own]
    targets = [c for c in _targets(spec) if (rules is None or c.rule in rules)
               and (constraint is None or c == constraint)]
    if not targets:
        wanted = constraint.describe() if constraint is not None else f"rules={rules!r}"
        raise ValueError(f"{spec.name}: no violable constraint among {wanted}")
    def for_target(c: Constraint) -> st.SearchStrategy[Violation]:
        need = RULE_KINDS[c.kind].rows_needed
        if need == 2 and any(f.params.get("ref_table") == spec.name and set(f.columns) & set(
                c.columns) for f in spec.fks):
            need = 3  # a duplicate through a self-FK needs a row that has a parent
        # A CHECK relating columns (updated_at >= created_at) is broken from the values the
        # row holds: the row must hold them, not leave them to defaults.
        relations = c.params.get("hints") is not None and c.params["hints"].relations
        ancestors = _parent_rows(order, need)
        g = graph(order, min_rows={**ancestors, spec.name: need},
                  max_rows=max(max_rows, need),
                  required={spec.name: c.columns} if relations else None,
                  # Parents only have to exist (valid rows vary elsewhere): one each, lean,
                  # and the same simplest row in every example where one can be built.
                  lean=ancestors, exact=ancestors, pinned=ancestors)
        return _drawn_violation(spec, c, g, specs)

    return st.one_of([for_target(c) for c in targets])


def _parent_rows(order: list[TableSpec], need: int) -> dict[str, int]:
    """The rows each ancestor of ``order[-1]`` gets for it to hold ``need`` distinct rows.

    The table's own parents get one row each, so that its foreign keys can point at a row;
    beyond them, a table gets one only when a table that has rows references it through a
    NOT NULL key (a parent's nullable key is left NULL). Every other ancestor gets none: in a
    tree of nullable keys the chain up to the root added a row per level to every example
    and nothing to the rule under test (the per-constraint time grew with the tree's depth).
    A table whose primary or unique key is made of foreign-key columns only (a link table's
    composite key) makes each parent it references hold as many rows as it does, so that the
    keys can differ."""
    own = order[-1]
    rows = with_required_parents(order, {own.name: need, **{
        f.params["ref_table"]: 1 for f in own.fks if f.params["ref_table"] != own.name}})
    for s in reversed(order):  # children before their parents
        n = rows.get(s.name, 0)
        if n <= 1:
            continue
        fk_columns = {col: f.params["ref_table"] for f in s.fks for col in f.columns
                      if f.params["ref_table"] != s.name}
        for key in s.unique_sets:
            if key.columns and all(col in fk_columns for col in key.columns):
                for col in key.columns:
                    rows[fk_columns[col]] = max(rows.get(fk_columns[col], 1), n)
    return {s.name: rows.get(s.name, 0) for s in order[:-1]}


def _converted_first(c: Constraint) -> bool:
    """Whether the database enforces ``c`` while converting the value to the column's type
    (SQLSTATE class 22: length, range, enum label), before any constraint is checked."""
    return c.enforced_by_database and (c.sqlstate or "").startswith("22")


@st.composite  # module level: see strategies/_records.py, _drawn_record
def _drawn_violation(draw_: st.DrawFn, spec: TableSpec, c: Constraint,
                     g: st.SearchStrategy[list[tuple[TableSpec, Record]]],
                     specs: Mapping[str, TableSpec]) -> Violation:
    rows = draw_(g)
    setup, (_, base) = rows[:-1], rows[-1]
    # Patches that cannot be drawn here (a relation whose other value is NULL, a storage type
    # without a free strategy) are left out rather than rejecting the example when chosen.
    breaks = RULE_KINDS[c.kind].breaks
    assert breaks is not None  # only violable kinds are targets
    options = [option for option in breaks(spec, c, base, setup) if not option[0].is_empty]
    assume(options)
    idx = draw_(st.integers(0, len(options) - 1)) if len(options) > 1 else 0
    strat, note = options[idx]
    record = {**base, **draw_(strat)}
    existing: dict[str, list[Record]] = {}
    for s, r in setup:
        existing.setdefault(s.name, []).append(r)
    bad = broken(spec, record, existing, specs)
    # A non-native enum's CHECK and the enum itself share one rule name: same rule.
    others = [b for b in bad if b.rule != c.rule]
    if _converted_first(c) and note != TRUNCATED:
        # PostgreSQL converts each value to its column's type before it checks constraints:
        # a value too long for varchar(n) is refused with 22001 whatever CHECK, FK or NOT
        # NULL it breaks too (an over-long FK value always dangles). Only other conversion
        # errors compete with it.
        others = [b for b in others if _converted_first(b)]
    exact = c in bad and all(
        b.sqlstate is None or not b.enforced_by_database for b in others
    ) and (c.enforced_by_database or not others)
    if exact and note == TRUNCATED:
        # PostgreSQL stores the value cut to its length: as stored it must break nothing the
        # database enforces either (a cut value may duplicate a unique one of the setup).
        cut = {**record, c.columns[0]: record[c.columns[0]][: c.params["max"]]}
        exact = not any(b.enforced_by_database for b in broken(spec, cut, existing, specs))
    if not exact:
        event(f"{spec.name}: {c.rule}: candidate rejected (not exactly one rule)")
        also = next((b.rule for b in others if b.enforced_by_database), None)
        if also is not None:
            note_obstacle(f"{spec.name}.{','.join(c.columns) or '*'}",
                          f"no value breaks {c.rule} alone: those drawn also broke {also}, "
                          "which the database enforces too (the rule is shadowed by it)")
    assume(exact)
    column = ",".join(c.columns) if c.kind != Kind.CHECK else next(
        (k for k in record if k in c.columns and base.get(k) != record.get(k)),
        ",".join(c.columns))
    if note:
        event(f"violation {spec.name}.{c.rule}: {note}")
    rejects = not model_accepts(spec, record)
    layers = c.layers | ({Layer.MODEL} if rejects else frozenset())
    sqlstate = c.sqlstate if c.enforced_by_database else None
    if note == TRUNCATED:
        layers, sqlstate = layers & {Layer.MODEL}, None
    return Violation(
        table=spec.name, column=column, rule=c.rule, record=record,
        sqlstate=sqlstate, enforced_by=layers,
        model_rejects=rejects,
        setup=tuple((s.table, r) for s, r in setup), constraint=c,
        also_breaks=tuple(b.rule for b in others), sa_table=spec.table,
    )
