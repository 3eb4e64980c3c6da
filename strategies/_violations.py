"""`violations(Model)`: records that break exactly one named constraint."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import assume, event
from hypothesis import strategies as st

from ._catalogue import ColumnSpec, TableSpec
from ._constraint import Constraint, Kind, Layer
from ._records import closure, column_values, graph, model_accepts, note_obstacle, spec_of
from ._registry import overrides_version
from ._rules import broken
from ._text import CHARACTERS, blank, lengths, texts
from ._types import INT_LIMITS

Record = dict[str, Any]
# PostgreSQL stores an over-long varchar value whose excess is only spaces by truncating it
# (SQL standard), so such a value is refused by the model alone: a model-only violation.
TRUNCATED = "excess is spaces: PostgreSQL truncates silently instead of raising 22001"


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


# ---------------------------------------------------------------------------- mutations


def _over_long(n: int) -> st.SearchStrategy[str]:
    """Strings of n+1..n+3 characters whose excess is not all spaces.

    PostgreSQL silently truncates an over-long value for varchar(n) when the excess
    characters are all spaces (SQL standard), so such a value is not a 22001 violation.
    """
    return texts(n + 1, n + 3, not_blank=True).map(
        lambda s: s if s[-1] != " " else s[:-1] + "x")


def _step(cs: ColumnSpec) -> Any:
    if cs.kind in INT_LIMITS:
        return 1
    if cs.kind == "decimal":
        return Decimal(1).scaleb(-(cs.places if cs.places is not None else 6))
    return 1e-6 if cs.kind in ("float", "float4") else 1


def _outside(bound: Any, inclusive: bool, below: bool, cs: ColumnSpec) -> st.SearchStrategy[Any]:
    step = _step(cs)
    sign = -1 if below else 1
    base = bound if not inclusive else bound + sign * step
    if isinstance(base, float) and cs.kind in INT_LIMITS:
        base = int(base)
    return st.sampled_from([base, base + sign * step * 7])


def _not_in(allowed: list[Any]) -> Any:
    return lambda value: value not in allowed


def _made_of(chars: list[str], min_len: int, max_len: int | None) -> st.SearchStrategy[str]:
    """Strings of only `chars`, length in [max(1, min_len), max_len] (cycled, few choices)."""
    return st.tuples(lengths(max(1, min_len), max_len),
                     st.lists(st.sampled_from(chars), min_size=1, max_size=8)).map(
        lambda t: ("".join(t[1]) * (t[0] // len(t[1]) + 1))[: t[0]])


def _free(cs: ColumnSpec) -> st.SearchStrategy[Any]:
    """Values of the column's storage type ignoring CHECKs (for CHECK violations)."""
    if cs.kind == "text":
        length = getattr(cs.column.type, "length", None)
        return texts(0, int(length) if length else 40)
    if cs.kind in INT_LIMITS:
        lo, hi = INT_LIMITS[cs.kind]
        return st.integers(-1000, 1000) | st.integers(lo, hi)
    if cs.kind == "decimal":
        return st.decimals(-1000, 1000, places=cs.places if cs.places is not None else 2)
    if cs.kind in ("float", "float4"):
        return st.floats(-1e6, 1e6, width=32 if cs.kind == "float4" else 64)
    return st.nothing()


def _bad_labels(cs: ColumnSpec, labels: tuple[str, ...]) -> st.SearchStrategy[str]:
    typ = cs.column.type
    limit = getattr(typ, "length", None) if not getattr(typ, "native_enum", True) else None
    known = [label + "_x" for label in labels] + [label.upper() for label in labels] + [
        " " + label for label in labels] + ["", "x"]
    cands = st.sampled_from(known) | st.text(CHARACTERS, min_size=1, max_size=12)
    return cands.filter(lambda s: s not in labels and (limit is None or len(s) <= limit))


def _mutations(spec: TableSpec, c: Constraint, base: Record, setup: list[tuple[TableSpec, Record]]
               ) -> list[tuple[st.SearchStrategy[Any], str]]:
    """Strategies of {column: value} patches that break `c`, each with a note."""
    col = c.columns[0] if c.columns else ""
    cs = spec.columns.get(col)
    p = c.params
    out: list[tuple[st.SearchStrategy[Any], str]] = []

    def patch(strat: st.SearchStrategy[Any], column: str = col, note: str = "") -> None:
        out.append((strat.map(lambda v: {column: v}), note))

    if c.kind == Kind.NOT_NULL:
        patch(st.none())
    elif c.kind == Kind.MAX_LENGTH and cs is not None:
        patch(_over_long(p["max"]))
        if c.sqlstate == "22001" and cs.kind == "text":
            patch(texts(p["max"], p["max"], not_blank=True).flatmap(
                lambda s: st.integers(1, 3).map(lambda k: s + " " * k)), note=TRUNCATED)
    elif c.kind == Kind.MIN_LENGTH and cs is not None and p["min"] > 0:
        patch(texts(max(0, p["min"] - 2), p["min"] - 1, not_blank=True))
    elif c.kind == Kind.PATTERN and cs is not None:
        patch(texts(cs.min_length, cs.max_length, not_blank=cs.not_blank).filter(
            lambda s: re.search(p["pattern"], s) is None))
    elif c.kind == Kind.RANGE and cs is not None:
        (op, bound), = p.items()
        patch(_outside(bound, op in ("ge", "le"), op in ("ge", "gt"), cs))
    elif c.kind == Kind.TYPE and cs is not None:
        if "min" in p:
            patch(st.sampled_from([p["min"] - 1, p["max"] + 1, p["max"] + 2**40]))
        else:
            big = Decimal(10) ** p["int_digits"]
            patch(st.sampled_from([big, -big, big * 10 + 1]))
    elif c.kind == Kind.DIGITS and cs is not None:
        if "places" in p:
            q = Decimal(1).scaleb(-(p["places"] + 1))
            patch(st.sampled_from([q, Decimal(1) + q, -q]))
        else:
            # Too many digits in the integer part, or in the fraction (1.111…): the second
            # keeps within a numeric(p, s) column's integer digits, which PostgreSQL rounds.
            n = p["max_digits"]
            patch(st.sampled_from([Decimal(10) ** n, Decimal("1." + "1" * n)]))
    elif c.kind == Kind.ENUM and cs is not None:
        patch(_bad_labels(cs, p["labels"]), note="label outside the enum")
        if cs.enum is not None and cs.enum.names:
            names = [n for n in cs.enum.names if n not in p["labels"]]
            if names:
                patch(st.sampled_from(names), note="member name where values are stored")
    elif c.kind in (Kind.UNIQUE, Kind.PRIMARY_KEY):
        same = [r for s, r in setup if s.name == spec.name
                and all(r.get(k) is not None for k in c.columns)]
        if same:
            out.append((st.sampled_from(same).map(
                lambda r: {k: r[k] for k in c.columns}), "duplicate of an existing row"))
    elif c.kind == Kind.FOREIGN_KEY:
        strategies = [column_values(spec, k) for k in c.columns]
        out.append((st.tuples(*strategies).map(
            lambda vals: dict(zip(c.columns, vals, strict=True))), "dangling reference"))
    elif c.kind == Kind.CHECK:
        hints = p.get("hints")
        if hints is not None:
            for k, n in hints.max_length.items():
                patch(_over_long(n), k)
            for k, n in hints.min_length.items():
                if n > 0:
                    patch(texts(max(0, n - 2), n - 1), k)
            for k in hints.not_blank:
                kcs = spec.columns[k]
                patch(blank(kcs.min_length, kcs.max_length), k, "spaces only")
            for k, chars in hints.blank_sets.items():
                kcs = spec.columns[k]
                patch(_made_of(sorted(chars), kcs.min_length, kcs.max_length), k,
                      "only characters the regex excludes")
            for k, (b, incl) in hints.lower.items():
                patch(_outside(b, incl, True, spec.columns[k]), k)
            for k, (b, incl) in hints.upper.items():
                patch(_outside(b, incl, False, spec.columns[k]), k)
            for k, allowed in hints.allowed.items():
                kcs = spec.columns[k]
                if kcs.kind == "text":
                    patch(st.sampled_from([*(str(a) + "_x" for a in allowed), "x"]).filter(
                        _not_in(allowed)), k)
                else:
                    patch(_free(kcs).filter(_not_in(allowed)), k)
            for a, op, b in hints.relations:
                out.append((_relation_breaker(spec, a, op, b, base), "relation reversed"))
        for k in c.columns:  # fallback: storage-type values, filtered by the exactness check
            if k in spec.columns:
                patch(_free(spec.columns[k]), k)
    return out


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


# ---------------------------------------------------------------------------- public


def _targets(spec: TableSpec) -> list[Constraint]:
    kinds = {Kind.NOT_NULL, Kind.MAX_LENGTH, Kind.MIN_LENGTH, Kind.PATTERN, Kind.RANGE,
             Kind.TYPE, Kind.DIGITS, Kind.ENUM, Kind.UNIQUE, Kind.PRIMARY_KEY,
             Kind.FOREIGN_KEY, Kind.CHECK}
    out = []
    for c in spec.constraints:
        if not c.generated or c.kind not in kinds:
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
    max_rows: int = 2,
) -> st.SearchStrategy[Violation]:
    """Return a strategy of `Violation`s of `model`'s table, each breaking one constraint.

    Covers NOT NULL (23502), length (22001), enum labels and member names (22P02, or 23514
    for non-native enums with a CHECK), integer/numeric range (22003), CHECKs (23514),
    unique/primary key duplicates (23505) and dangling FKs (23503), plus model-only rules
    (sqlstate None). `rules` restricts to the named rules; `constraint` to one constraint of
    `constraints(model)` (several may share a rule name, such as each column's "NOT NULL").
    Parent rows come from `graphs()` over the models the FKs reach (found through the
    model's SQLAlchemy registry); they carry only what they must (keys, and the columns
    without a default), since they only have to exist.

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
    ancestors = {s.name: 1 for s in order if s.name != spec.name}

    def for_target(c: Constraint) -> st.SearchStrategy[Violation]:
        need = 2 if c.kind in (Kind.UNIQUE, Kind.PRIMARY_KEY) else 1
        if need == 2 and any(f.params.get("ref_table") == spec.name and set(f.columns) & set(
                c.columns) for f in spec.fks):
            need = 3  # a duplicate through a self-FK needs a row that has a parent
        # A CHECK relating columns (updated_at >= created_at) is broken from the values the
        # row holds: the row must hold them, not leave them to defaults.
        relations = c.params.get("hints") is not None and c.params["hints"].relations
        g = graph(order, min_rows={**ancestors, spec.name: need},
                  max_rows=max(max_rows, need),
                  required={spec.name: c.columns} if relations else None,
                  lean=ancestors)  # parents only have to exist; valid rows vary elsewhere
        return _drawn_violation(spec, c, g, specs)

    return st.one_of([for_target(c) for c in targets])


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
    options = [option for option in _mutations(spec, c, base, setup) if not option[0].is_empty]
    assume(options)
    idx = draw_(st.integers(0, len(options) - 1))
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
