"""Rows (dicts keyed by column name) for one table and FK-consistent row graphs."""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from hypothesis import assume, event
from hypothesis import strategies as st
from pydantic import ValidationError

from . import _catalogue
from ._catalogue import TableSpec
from ._constraint import Constraint, Kind
from ._errors import SkippedConstraintWarning, UnsupportedColumnError, UnsupportedConstraintError
from ._live_schema import memoised
from ._registry import override_for, overrides_version
from ._rule_kinds import broken
from ._simplest import NO_VALUE, simplest_value
from ._values import column_values

Record = dict[str, Any]
FkValues = Mapping[tuple[str, ...], st.SearchStrategy[tuple[Any, ...] | None]]
SELF = object()  # marker: the row references itself (self-referencing NOT NULL FK)
_BOOLEANS = st.booleans()
_MODEL_TRIES = 3  # draws of a row before a model's rejection rejects the example

_CACHE: dict[Any, TableSpec] = {}


def spec_of(model: Any, connection: sa.Connection | None = None) -> TableSpec:
    """Return the `TableSpec` of `model`: cached when no connection is given; with one, built
    once per database inside a :func:`reading_once` block (and its memo), else afresh."""
    if connection is not None:
        return memoised(("spec", model, connection.engine.url),
                        lambda: _catalogue.build(model, connection))
    if model not in _CACHE:
        _CACHE[model] = _catalogue.build(model)
    return _CACHE[model]


def parent_model(spec: TableSpec, fk: Constraint) -> Any:
    """Return the mapped model of the table `fk` references (same registry); raise if none."""
    ref = fk.params["ref_table"]
    if ref == spec.name:
        return spec.model
    for mapper in sa.inspect(spec.model).registry.mappers:
        if getattr(mapper.local_table, "name", None) == ref:
            return mapper.class_
    raise UnsupportedColumnError(spec.name, ",".join(fk.columns),
                                 f"foreign key to {ref!r}, which has no mapped model")


def _groups(spec: TableSpec) -> list[list[str]]:
    """Columns that must be present or omitted together (they share a multi-column CHECK)."""
    parent = {c: c for c in spec.columns}

    def find(c: str) -> str:
        while parent[c] != c:
            c = parent[c]
        return c

    for check in spec.of_kind(Kind.CHECK):
        cols = [col for col in check.columns if col in parent]
        for col in cols[1:]:
            parent[find(col)] = find(cols[0])
    groups: dict[str, list[str]] = {}
    for name in spec.columns:
        groups.setdefault(find(name), []).append(name)
    return list(groups.values())


def check_supported(spec: TableSpec, strict: bool, connection: Any = None) -> None:
    """Raise (strict) or warn about columns/constraints `valid()` cannot honour."""
    for name, cs in spec.columns.items():
        if cs.kind is None and override_for(spec.name, name) is None:
            if not cs.omittable:
                raise UnsupportedColumnError(spec.name, name, cs.unsupported)
            warnings.warn(f"{spec.name}.{name}: {cs.unsupported}; the column is omitted",
                          SkippedConstraintWarning, stacklevel=3)
    for c in spec.constraints:
        if c.kind == Kind.CHECK and not c.generated:
            if strict and connection is None:
                raise UnsupportedConstraintError(spec.name, c.rule, c.note)
            if connection is None:
                warnings.warn(f"{spec.name}: {c.rule}: {c.note}; valid rows may break it",
                              SkippedConstraintWarning, stacklevel=3)


def _nullable(spec: TableSpec, name: str) -> bool:
    cs = spec.columns[name]
    return cs.nullable and cs.model_accepts_none


def _fix_relations(spec: TableSpec, record: Record) -> None:
    for c in spec.of_kind(Kind.CHECK):
        hints = c.params.get("hints")
        for a, op, b in getattr(hints, "relations", ()):
            va, vb = record.get(a), record.get(b)
            if va is None or vb is None:
                continue
            try:
                wrong = (op in (">", ">=") and va < vb) or (op in ("<", "<=") and va > vb)
            except TypeError:
                continue
            if wrong:
                record[a], record[b] = vb, va


def records(
    spec: TableSpec,
    *,
    fk_values: FkValues | None = None,
    present: frozenset[str] = frozenset(),
    db_filter: Callable[[Record], bool] | None = None,
) -> st.SearchStrategy[Record]:
    """Valid rows of `spec` (omitted keys mean "use the default").

    FK columns take values from `fk_values` (keyed by the FK's column tuple; a drawn SELF
    means "reference this row"); FKs without an entry get NULL when allowed, else a
    type-valid placeholder that graphs() or the caller must resolve.
    """
    return _drawn_record(_plan_of(spec), fk_values or {}, present, db_filter)


# The composites live at module level and take their state as arguments: Hypothesis parses
# the source of a function each time `@st.composite` decorates it, and these strategies are
# built inside properties, once per example (a fifth of the run time when they were nested).
@st.composite
def _drawn_record(draw: st.DrawFn, plan: _Plan, fk_values: FkValues, present: frozenset[str],
                  db_filter: Callable[[Record], bool] | None) -> Record:
    return plan.draw(draw, fk_values, present, db_filter)


class _Plan:
    """Per-table column strategies and omission groups, built once and drawn from often."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.fk_cols = {col for fk in spec.fks for col in fk.columns}
        self.groups = _groups(spec)
        self.strategies = {
            name: column_values(spec, name)
            for name, cs in spec.columns.items()
            if not cs.db_generated and (cs.kind is not None or override_for(spec.name, name))
        }
        self.or_none = {name: st.none() | strategy for name, strategy in self.strategies.items()
                        if _nullable(spec, name)}

    def draw(
        self,
        draw: st.DrawFn,
        fk_values: FkValues,
        present: frozenset[str],
        db_filter: Callable[[Record], bool] | None,
        lean: bool = False,
    ) -> Record:
        """A valid row; with `lean`, every column that may be omitted is (fewer draws, for
        rows that only have to exist, such as a violation's parents)."""
        spec, strategies = self.spec, self.strategies
        record: Record = {}
        for group in self.groups:
            omittable = all(spec.columns[c].omittable and c not in present for c in group)
            if omittable and (lean or draw(_BOOLEANS)):
                continue
            for name in group:
                if name not in strategies or name in self.fk_cols:
                    continue
                if name not in present and name in self.or_none:
                    record[name] = draw(self.or_none[name])
                else:
                    record[name] = draw(strategies[name])
        for fk in spec.fks:
            cols = fk.columns
            if cols in fk_values:
                chosen = draw(fk_values[cols])
            elif all(_nullable(spec, c) for c in cols):
                chosen = None
            else:
                chosen = tuple(draw(strategies[c]) for c in cols if c in strategies)
                event(f"{spec.name}.{','.join(cols)}: unresolved FK placeholder")
            if chosen is SELF:
                chosen = tuple(record.get(c) for c in fk.params["ref_columns"])
            for i, col in enumerate(cols):
                record[col] = None if chosen is None else chosen[i]
        _fix_relations(spec, record)
        bad = broken(spec, record, {}, skip_fk=True)
        if bad:
            event(f"{spec.name}: candidate broke {bad[0].rule} (rejected)")
        assume(not bad)
        if db_filter is not None:
            assume(db_filter(record))
        return record

    def pinned(self, parent_rows: Mapping[str, Record], present: frozenset[str],
               db_filter: Callable[[Record], bool] | None) -> Record | None:
        """The row `draw(..., lean=True)` would make from the simplest choices, built without
        drawing: every column that may be omitted left out, a nullable one NULL, the others
        their `simplest_value`, foreign keys NULL where they may be, else pointing at the row
        of `parent_rows` (one per parent table). None when a column has no simplest value
        (its kind, a field strategy the user registered), a NOT NULL key has no parent row,
        or the row breaks a rule of any layer or the model refuses it: then it is drawn."""
        spec = self.spec
        record: Record = {}
        for group in self.groups:
            if all(spec.columns[c].omittable and c not in present for c in group):
                continue
            for name in group:
                if name not in self.strategies or name in self.fk_cols:
                    continue
                if name not in present and name in self.or_none:
                    record[name] = None
                    continue
                value = (NO_VALUE if override_for(spec.name, name) is not None
                         else simplest_value(spec.columns[name]))
                if value is NO_VALUE:
                    return None
                record[name] = value
        for fk in spec.fks:
            parent = parent_rows.get(fk.params["ref_table"])
            if all(_nullable(spec, c) for c in fk.columns):
                key: tuple[Any, ...] | None = None
            elif parent is None or fk.params["ref_table"] == spec.name:
                return None
            else:
                key = tuple(parent.get(c) for c in fk.params["ref_columns"])
                if None in key:
                    return None
            for i, col in enumerate(fk.columns):
                record[col] = None if key is None else key[i]
        _fix_relations(spec, record)
        if broken(spec, record, {}, skip_fk=True) or (
                db_filter is not None and not db_filter(record)):
            return None
        try:
            return record if rejection(spec, record) is None else None
        except (ValueError, TypeError):
            return None


_PLANS: dict[tuple[Any, int], _Plan] = {}  # (model, overrides_version()) -> plan


def _plan_of(spec: TableSpec) -> _Plan:
    """The plan of `spec`, kept for the catalogues spec_of caches (valid() and the stateful
    machines ask again at every step) until a field strategy is registered."""
    if spec.model is None or _CACHE.get(spec.model) is not spec:
        # A catalogue read from a live database: built afresh, or once per spec inside a
        # reading_once() block, whose memo keeps the spec beside its plan (so that no other
        # spec can take its id while the entry lives).
        kept, plan = memoised(("plan", id(spec), overrides_version()),
                              lambda: (spec, _Plan(spec)))
        return plan if kept is spec else _Plan(spec)
    key = (spec.model, overrides_version())
    if key not in _PLANS:
        _PLANS[key] = _Plan(spec)
    return _PLANS[key]


def validate_fields(model: Any, data: Mapping[str, Any]) -> Any:
    """``model.model_validate(data)`` (data keyed by attribute); returns the instance, raises
    ValidationError. A model with a relationship named like a dict method (``items``, the
    FastAPI template's) is given an object instead: SQLModel reads relationships from the
    validated input with getattr, which on a dict finds the method and raises TypeError."""
    if _relationship_named_like_a_dict_method(model):
        return model.model_validate(types.SimpleNamespace(**data), from_attributes=True)
    return model.model_validate(dict(data))


@functools.cache  # asked for every generated row: the mapper's answer does not change
def _relationship_named_like_a_dict_method(model: Any) -> bool:
    return any(hasattr(dict, rel.key) for rel in sa.inspect(model).relationships)


def to_instance(spec: TableSpec, record: Mapping[str, Any]) -> Any:
    """Validate `record` through the model; return the instance or raise ValidationError."""
    data: dict[str, Any] = {}
    for column, value in record.items():
        key = spec.columns[column].key
        if key:
            data[key] = value
    if spec.model is None:
        raise TypeError(f"{spec.name}: no model to validate rows with")
    return validate_fields(spec.model, data)


# Why values could not be generated, by "table.field": the model's first error for a rejected
# row, or the rule that shadows a violation. What a property that cannot generate says instead
# of Hypothesis' bare `Unsatisfiable`.
_REJECTIONS: dict[str, str] = {}


def note_obstacle(where: str, why: str) -> None:
    """Remember why a value for ``where`` ("table.column") could not be generated."""
    _REJECTIONS.setdefault(where, why)


def generation_obstacles() -> dict[str, str]:
    """Return, and forget, why values could not be generated since the last call:
    ``{"table.field": "why"}`` (the model's message, or the rule shadowing a violation; empty
    when nothing was rejected)."""
    found = dict(_REJECTIONS)
    _REJECTIONS.clear()
    return found


def rejection(spec: TableSpec, record: Mapping[str, Any]) -> str | None:
    """Why `Model.model_validate` refuses `record` (keyed by column name): its first error as
    ``"field: message"``, or None when it accepts (or the table has no model). Raises what the
    model raises other than ValidationError (a validator's TypeError, say)."""
    if spec.model is None:
        return None
    try:
        to_instance(spec, record)
    except ValidationError as error:
        details = error.errors()
        if not details:
            return str(error)
        return f"{'.'.join(str(part) for part in details[0]['loc'])}: {details[0]['msg']}"
    return None


def model_rejection(model: Any, record: Mapping[str, Any]) -> str | None:
    """`rejection` for a table model: why ``model.model_validate`` refuses a row keyed by
    column name, or None when it accepts it. Raises TypeError when `model` is not a table
    model, and what the model raises other than ValidationError."""
    return rejection(spec_of(model), record)


def model_accepts(spec: TableSpec, record: Mapping[str, Any]) -> bool:
    """True when `Model.model_validate` accepts `record`; a rejection is remembered for
    `generation_obstacles`. A table with no model (reflected) has no model layer: True."""
    try:
        why = rejection(spec, record)
    except (ValueError, TypeError) as error:
        note_obstacle(f"{spec.name}.(the row)", "the model raised "
                      f"{type(error).__name__}: {str(error)[:200]}")
        return False
    if why is not None:
        where, _, message = why.partition(": ")
        note_obstacle(f"{spec.name}.{where or '(the row)'}", "the model rejects the values the "
                      f"constraints allow ({message[:200]})")
        return False
    return True


def closure(models: Sequence[Any], connection: Any = None) -> list[TableSpec]:
    """Specs of `models` plus every model they reference, parents before children.

    Raises UnsupportedColumnError for an FK cycle between different tables that no
    nullable FK breaks.
    """
    specs: dict[str, TableSpec] = {}
    stack = list(models)
    while stack:
        model = stack.pop()
        spec = spec_of(model, connection)
        if spec.name in specs:
            continue
        specs[spec.name] = spec
        for fk in spec.fks:
            if fk.params["ref_table"] != spec.name:
                stack.append(parent_model(spec, fk))
    order: list[TableSpec] = []
    done: set[str] = set()
    pending = dict(specs)
    def deps_ok(s: TableSpec, strict: bool) -> bool:
        for fk in s.fks:
            ref = fk.params["ref_table"]
            if ref == s.name or ref in done:
                continue
            if strict or not all(_nullable(s, c) for c in fk.columns):
                return False
        return True

    while pending:
        ready = [s for s in pending.values() if deps_ok(s, True)] or [
            s for s in pending.values() if deps_ok(s, False)]
        if not ready:
            names = ", ".join(sorted(pending))
            raise UnsupportedColumnError(names, "*", "foreign keys form a NOT NULL cycle")
        nxt = sorted(ready, key=lambda s: s.name)[0]
        order.append(nxt)
        done.add(nxt.name)
        del pending[nxt.name]
    return order


def _fk_strategy(spec: TableSpec, fk: Constraint, rows: Mapping[str, list[Record]],
                 own: list[Record]) -> st.SearchStrategy[Any] | None:
    """Where an FK's values come from: existing parent rows, NULL, or SELF; None if nowhere."""
    ref, ref_cols = fk.params["ref_table"], fk.params["ref_columns"]
    parents = own if ref == spec.name else rows.get(ref, [])
    keys = sorted({tuple(r[c] for c in ref_cols) for r in parents
                   if all(r.get(c) is not None for c in ref_cols)}, key=repr)
    options: list[st.SearchStrategy[Any]] = []
    if all(_nullable(spec, c) for c in fk.columns):
        options.append(st.none())
    if keys:
        options.append(st.sampled_from(keys))
    if ref == spec.name and not options:
        options.append(st.just(SELF))
    return st.one_of(options) if options else None


def _bind(
    db_filter: Callable[[TableSpec, Record], bool] | None, spec: TableSpec
) -> Callable[[Record], bool] | None:
    if db_filter is None:
        return None
    return lambda record: db_filter(spec, record)


def graph(
    order: Sequence[TableSpec],
    *,
    min_rows: Mapping[str, int] | None = None,
    max_rows: int = 4,
    db_filter: Callable[[TableSpec, Record], bool] | None = None,
    required: Mapping[str, Iterable[str]] | None = None,
    lean: Iterable[str] = (),
    exact: Iterable[str] = (),
    pinned: Iterable[str] = (),
) -> st.SearchStrategy[list[tuple[TableSpec, Record]]]:
    """FK-consistent rows over `order`, insertion order, table sizes drawn (and shrunk).
    Primary keys, referenced columns and the `required` columns of a table are always
    present and non-NULL; rows of the `lean` tables omit every column they may omit; the
    `exact` tables get exactly their `min_rows` (no size drawn, no extra rows to insert). A
    table that must have rows gives each table its NOT NULL foreign keys reference at least
    one (drawing none there could only end in a rejected example). A `pinned` table that is
    lean and gets exactly one row holds the same row in every example, made of the simplest
    values that keep every rule (`_Plan.pinned`), with nothing drawn for it; where no such row
    can be built without drawing, it is drawn as a lean row."""
    min_rows = with_required_parents(order, min_rows or {})
    present: dict[str, set[str]] = {s.name: set(s.pk) for s in order}
    for table, columns in (required or {}).items():
        present.setdefault(table, set()).update(columns)
    for s in order:
        for fk in s.fks:
            present.setdefault(fk.params["ref_table"], set()).update(fk.params["ref_columns"])

    plans = {s.name: _plan_of(s) for s in order}
    lean, exact = frozenset(lean), frozenset(exact)
    pinnable = frozenset(pinned) & lean & exact
    pinned_rows: dict[str, Record] = {}
    for s in order:  # parents first: a pinned row's keys point at its pinned parents
        if s.name in pinnable and min_rows.get(s.name) == 1:
            row = plans[s.name].pinned(pinned_rows, frozenset(present.get(s.name, ())),
                                       _bind(db_filter, s))
            if row is not None:
                pinned_rows[s.name] = row
    return _drawn_graph(tuple(order), dict(min_rows), max_rows, present, plans, db_filter,
                        lean, exact, pinned_rows)


def with_required_parents(order: Sequence[TableSpec], min_rows: Mapping[str, int]
                          ) -> dict[str, int]:
    """`min_rows`, raised to one for every table a table with rows references through a
    foreign key none of whose columns may be NULL (transitively: `order` lists parents
    first). Returns a new dict; never raises."""
    raised = dict(min_rows)
    names = {s.name for s in order}
    for spec in reversed(order):
        if raised.get(spec.name, 0) < 1:
            continue
        for fk in spec.fks:
            ref = fk.params["ref_table"]
            if ref != spec.name and ref in names and not all(
                    _nullable(spec, c) for c in fk.columns):
                raised[ref] = max(raised.get(ref, 0), 1)
    return raised


@functools.lru_cache(maxsize=256)  # asked for every table of every drawn graph
def _sizes(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@st.composite
def _drawn_graph(
    draw: st.DrawFn,
    order: tuple[TableSpec, ...],
    min_rows: Mapping[str, int],
    max_rows: int,
    present: Mapping[str, set[str]],
    plans: Mapping[str, _Plan],
    db_filter: Callable[[TableSpec, Record], bool] | None,
    lean: frozenset[str],
    exact: frozenset[str],
    pinned_rows: Mapping[str, Record],
) -> list[tuple[TableSpec, Record]]:
    rows: dict[str, list[Record]] = {}
    out: list[tuple[TableSpec, Record]] = []
    for spec in order:
        low = min_rows.get(spec.name, 0)
        high = low if spec.name in exact else max(low, max_rows)
        n = low if high == low else draw(_sizes(low, high))
        own: list[Record] = []
        for _ in range(n):
            if spec.name in pinned_rows:  # checked once when built: nothing to draw
                rec = dict(pinned_rows[spec.name])
                own.append(rec)
                out.append((spec, rec))
                continue
            fk_values: dict[tuple[str, ...], st.SearchStrategy[Any]] = {}
            missing = False
            for fk in spec.fks:
                strat = _fk_strategy(spec, fk, rows, own)
                if strat is None:
                    missing = True
                    break
                fk_values[fk.columns] = strat
            if missing:
                break
            # A row the model rejects (a validator the constraints do not show, such as
            # updated_at >= created_at in a model_validator) is drawn again, up to three tries
            # as Hypothesis' .filter makes, before the example is rejected: rejecting it at
            # once wasted whole examples (half of a users graph's rows, whose model orders
            # its timestamps with no CHECK to say so). A loop, not .filter: a row is drawn by
            # its plan, not by a strategy, and the event names the table.
            for _ in range(_MODEL_TRIES):
                rec = plans[spec.name].draw(
                    draw, fk_values, frozenset(present.get(spec.name, ())),
                    _bind(db_filter, spec), lean=spec.name in lean)
                if model_accepts(spec, rec):
                    break
                event(f"{spec.name}: model rejected a generated row")
            else:
                assume(False)
            if broken(spec, rec, {**rows, spec.name: own}, {s.name: s for s in order}):
                continue  # a duplicate unique value: drop the row, keep the graph valid
            own.append(rec)
            out.append((spec, rec))
        assume(len(own) >= low)
        rows[spec.name] = own
    return out

