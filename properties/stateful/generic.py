"""A state machine derived from the model graph of any ``--schemafuzz-models``: for every table,
rules that create, update and delete rows through the ORM and through SQL, and insert rows breaking
one constraint; after every step the database must equal :class:`ExpectedState`, hold no
orphans, hold only rows the model validates, and keep timestamps in order.

Rules are named after what they do (``create_tasks``, ``delete_users``,
``insert_violating_row``) and take the client as an argument (``via='orm'`` or ``'sql'``), so
the shortest failing program Hypothesis prints reads as a story
(``tasks_0 = state.create_tasks(data=..., user_id=users_0, via='sql')``); bundle values are
:class:`Ref` (table and primary key); notes say what each step did.

Expectations come from the models alone:
- a valid row is stored and reads back equal, unless it repeats a stored row's unique columns
  (23505) or references a parent that does not exist (23503; bundles keep references to rows a
  cascade removed, so this happens naturally);
- an update of some columns with values the model accepts is stored; where the timestamp rules
  are declared (a CHECK relating the columns, a trigger, the reference backend: see
  :func:`managed_timestamps`) ``created_at`` never changes and ``updated_at`` moves strictly
  forward on every UPDATE that reaches the row;
- a delete applies the declared ON DELETE actions recursively (see ``ExpectedState``);
- a violation is refused with its SQLSTATE and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import keyword
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, consumes, initialize, invariant, multiple, rule

from schemafuzz.findings import Finding, describe_value, same_stored_value
from schemafuzz.harness import Sandbox, diagnostics_of
from schemafuzz.live_rows import live_violations, valid_graphs, valid_instances
from schemafuzz.outcomes import (
    Outcome,
    attempt,
    attempt_all,
    column_key,
    column_named_by,
    database_only_rule,
    declare_catalogue,
    insert_statement,
    layers_of,
    record_of,
)
from schemafuzz.strategies import (
    Constraint,
    Violation,
    model_rejection,
)
from schemafuzz.strategies._types import is_datetime_type
from schemafuzz.targets import (
    ForeignKeyTarget,
    Violable,
    enforced_on_flush,
    fills_when_none,
    foreign_keys,
    violable_constraints,
)

from ._base import ORM_ERRORS, MachineContext, SandboxMachine, orm_refusal, refusal_message
from ._base import a_via as _a
from ._state import DeletePlan, ExpectedState, Key, Ref, Row

__all__ = ["Shown", "declare_timestamp_rules", "generic_machine", "managed_timestamps",
           "timestamp_rules_declared"]

VIAS = ("orm", "sql")
VIA = st.sampled_from(VIAS)

# Beyond this an UPDATE's `updated_at + 1 µs` cannot be read back into a Python datetime.
_LAST_ADVANCEABLE = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)


class Shown:
    """A drawn value with a short repr, so the printed program stays readable."""

    def __init__(self, value: Any, text: str) -> None:
        self.value = value
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text)


def _linked(instance: Any, parent_keys: Mapping[str | tuple[str, ...], list[Any]]) -> Any:
    """``instance`` with its FK columns set to the parent keys given (one per FK), returned."""
    attribute = _attr_keys(type(instance))
    for columns, [value] in parent_keys.items():
        names = (columns,) if isinstance(columns, str) else columns
        values = (value,) if isinstance(columns, str) else value
        for column, part in zip(names, values, strict=True):
            setattr(instance, attribute[column], part)
    return instance


def _describe_row(instance: Any) -> str:
    record = record_of(instance)
    return f"{instance.__table__.name}(" + ", ".join(
        f"{k}={describe_value(v, 24)}" for k, v in record.items()) + ")"


@st.composite
def _concise(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Shown:
    """Draw from ``strategy`` and wrap the value so the printed step shows the rows' column
    values only (Hypothesis would otherwise print how a mapped value was built)."""
    value = draw(strategy)
    if isinstance(value, list):
        return Shown(value, "[" + ", ".join(_describe_row(v) for v in value) + "]")
    return Shown(value, _describe_row(value))


_STAMPS = ("created_at", "updated_at")
_STAMPED: dict[str, bool] = {}  # table name -> its timestamp rules are declared (this run)


def managed_timestamps(table: sa.Table) -> tuple[str, str] | None:
    """``("created_at", "updated_at")`` when the table has both and something declares their
    rules (created_at kept, updated_at advancing, ``created_at <= updated_at``): a CHECK
    relating them, a trigger on the table, or the reference backend (see
    :func:`declare_timestamp_rules`); else None. A naming convention alone is not a rule."""
    names = set(table.c.keys())
    if not set(_STAMPS) <= names or not _STAMPED.get(str(table.name), False):
        return None
    return _STAMPS


def timestamp_rules_declared(table: sa.Table) -> bool:
    """Whether :func:`declare_timestamp_rules` found the table's timestamp rules declared."""
    return _STAMPED.get(str(table.name), False)


def declare_timestamp_rules(connection: sa.Connection, tables: list[sa.Table],
                            reference_backend: bool) -> None:
    """Note which of ``tables`` declare the timestamp rules: the reference backend's (its
    spec states them), and any table with a CHECK naming both columns or with a trigger in
    the schema under test."""
    triggered = set(connection.execute(sa.text(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal")).scalars())
    for table in tables:
        checks = [str(c.sqltext) for c in table.constraints
                  if isinstance(c, sa.CheckConstraint)]
        related = any(all(stamp in text for stamp in _STAMPS) for text in checks)
        _STAMPED[str(table.name)] = reference_backend or related or table.name in triggered


def _set_on_update(column: sa.Column[Any]) -> bool:
    """Whether an UPDATE sets the column by itself (``onupdate=`` / ``server_onupdate=``)."""
    return column.onupdate is not None or column.server_onupdate is not None


def _server_filled(column: sa.Column[Any]) -> bool:
    return is_datetime_type(column.type) and column.server_default is not None


def _updatable(table: sa.Table, fks: list[ForeignKeyTarget]) -> list[str]:
    """Columns an update rule may set: not primary key, not FK, not database-filled
    timestamps."""
    fk_columns = {c for fk in fks if fk.child.__table__ is table for c in fk.columns}
    return [c.name for c in table.columns
            if not c.primary_key and c.name not in fk_columns and not _server_filled(c)]


def _identifier(text: str) -> str:
    name = "".join(ch if ch.isalnum() else "_" for ch in text).strip("_") or "parent"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"_{name}"
    return name


def _attr_keys(model: type[Any]) -> dict[str, str]:
    return {attr.columns[0].name: attr.key for attr in sa.inspect(model).column_attrs}


def _short_row(row: Row) -> str:
    return "{" + ", ".join(f"{k}: {describe_value(v, 24)}" for k, v in row.items()) + "}"


class GenericMachine(SandboxMachine):
    """Shared implementation of the generated rules; ``generic_machine`` adds the rules."""

    models: dict[str, type[Any]]
    fks: list[ForeignKeyTarget]
    catalogue: dict[str, list[Constraint]]

    def __init__(self) -> None:
        super().__init__()
        self.state = ExpectedState([m.__table__ for m in self.models.values()], self.fks)
        # Rows removed from the database, so stale references still know their key values.
        self.graveyard: dict[str, dict[Key, Row]] = {name: {} for name in self.models}
        self._validated: dict[tuple[str, Key], Row] = {}

    # ------------------------------------------------------------------ helpers
    def _row_of(self, ref: Ref) -> Row:
        return self.state.rows[ref.table].get(ref.key) or self.graveyard[ref.table][ref.key]

    def _where(self, table: sa.Table, key: Key) -> list[Any]:
        return [c == v for c, v in zip(table.primary_key.columns, key, strict=True)]

    def _select(self, table: sa.Table, key: Key) -> Row | None:
        row = self.db.connection.execute(
            sa.select(*table.c).where(*self._where(table, key))).first()
        return None if row is None else {c.name: row._mapping[c] for c in table.c}

    def _fk_rule(self, fk: ForeignKeyTarget) -> str:
        return f"{fk.name} ON DELETE {fk.ondelete}"

    def _fk_named(self, name: str | None) -> ForeignKeyTarget | None:
        return next((fk for fk in self.fks if fk.name == name), None)

    def _refusal_finding(self, table: sa.Table, outcome: Outcome, record: Row, what: str
                         ) -> Finding:
        column = column_named_by(table, outcome, record)
        layers = ["model", "database"]
        fk = self._fk_named(outcome.constraint_name)
        model = self.models.get(str(table.name))
        database_only = (database_only_rule(self.db, model, outcome.constraint_name)
                         if fk is None and model is not None else None)
        if fk is not None:
            column = ",".join(fk.columns)
        elif database_only is not None:  # named as the database-only property names it
            column, layers = ",".join(database_only.columns), ["database"]
        return Finding(str(table.name), column,
                       outcome.constraint_name or f"SQLSTATE {outcome.sqlstate}",
                       layers, what, record.get(column, _short_row(record)))

    # ------------------------------------------------------------------ create
    def create(self, model: type[Any], via: str, data: st.DataObject,
               parents: dict[str, Ref]) -> Any:
        table: sa.Table = model.__table__
        name = str(table.name)
        parent_keys: dict[str | tuple[str, ...], list[Any]] = {}
        for fk in self.fks:
            ref = parents.get(_identifier("_".join(fk.columns)))
            if fk.child is not model or ref is None or ref.table != str(fk.parent.__table__.name):
                continue
            nullable = all(table.c[c].nullable for c in fk.columns)
            if nullable and not data.draw(st.booleans(), label=f"link {','.join(fk.columns)}"):
                continue
            values = self.state.referenced_values(fk, self._row_of(ref))
            parent_keys[fk.columns[0] if len(fk.columns) == 1 else fk.columns] = [
                values[0] if len(values) == 1 else values]
        # Drawn from the schema under test (built once per sandbox), then linked to the
        # parents chosen above: the row keeps the rules only the database declares too.
        linked = valid_instances(self.db, model).map(lambda row: _linked(row, parent_keys))
        instance = data.draw(_concise(linked), label=f"{name} row").value
        self._maybe_repeat_unique(model, instance, data)
        ref = self._insert(instance, via)
        return multiple() if ref is None else ref

    def create_with_children(self, model: type[Any], children: list[type[Any]], via: str,
                             data: st.DataObject) -> Any:
        """Insert a family drawn from ``graphs()``: fresh ancestors, a ``model`` row and at
        least one row of each child table; return the first ``model`` row stored (deleting it
        exercises every ON DELETE action at once)."""
        name = str(model.__table__.name)
        rows = data.draw(_concise(valid_graphs(self.db, children or [model], min_rows={
            name: 1, **{str(c.__table__.name): 1 for c in children}},
            max_rows=1 if not children else 2)),
            label=f"{name} family" if children else f"{name} row and its ancestors").value
        refs = [self._insert(instance, via) for instance in rows]
        mine = [ref for ref in refs if ref is not None and ref.table == name]
        return mine[0] if mine else multiple()

    def _insert(self, instance: Any, via: str) -> Ref | None:
        """Insert one row via the ORM or SQL; check the outcome against the expected state and
        return the stored row's reference (None when it was refused, as expected)."""
        model = type(instance)
        table: sa.Table = model.__table__
        name = str(table.name)
        # A None where a default or sequence fills in is left out, as the ORM leaves it out.
        record = {k: v for k, v in record_of(instance).items()
                  if not (v is None and fills_when_none(table, k))}
        collision = self.state.collision(name, record)
        dangling = self.state.dangling(name, record)
        expected = "23505" if collision else "23503" if dangling else None
        if via == "sql":
            outcome = attempt(self.db, insert_statement(table, record).returning(*table.c))
            stored = None if outcome.row is None else {c.name: outcome.row._mapping[c]
                                                       for c in table.c}
        else:
            outcome, stored = self._orm_insert(model, instance)
        self.count(f"{name} insert: {outcome.sqlstate or 'stored'}")
        note(f"{name} insert via {via}: "
             + (f"stored {_short_row(stored or {})}" if outcome.stored
                else f"refused with {outcome.sqlstate}") + f" (expected {expected or 'stored'})")
        if expected is None and self._sequence_collision(table, record, outcome):
            # Rows inserted with explicit keys do not advance the key's sequence, so a later
            # generated key can repeat one: PostgreSQL's documented behaviour, not a finding.
            note("the generated primary key repeated an explicitly inserted one")
            return None
        if outcome.sqlstate != expected:
            self._wrong_insert_outcome(table, record, outcome, expected, collision, dangling,
                                       via)
        if not outcome.stored:
            return None
        assert stored is not None
        self._check_round_trip(table, record, stored, via)
        key = self.state.key_of(name, stored)
        self.state.rows[name][key] = stored
        for constraint in self.catalogue.get(name, []):
            self.context.ledger.count(constraint.table, column_key(constraint), constraint.rule,
                                      valid=1)
        return Ref(name, key)

    def _sequence_collision(self, table: sa.Table, record: Row, outcome: Outcome) -> bool:
        pk = [c.name for c in table.primary_key.columns]
        generated = any(record.get(c) is None and fills_when_none(table, c) for c in pk)
        named = outcome.constraint_name or ""
        return (generated and outcome.sqlstate == "23505" and bool(self.state.rows[str(
            table.name)]) and (named == table.primary_key.name or named.endswith("_pkey")))

    def _maybe_repeat_unique(self, model: type[Any], instance: Any, data: st.DataObject) -> None:
        """Sometimes copy a stored row's unique columns into ``instance`` (then 23505 is
        expected): random values almost never collide by themselves."""
        name = str(model.__table__.name)
        pk = tuple(c.name for c in model.__table__.primary_key.columns)
        sets = [cols for cols in self.state.uniques[name] if cols != pk]
        stored = list(self.state.rows[name].values())
        if not sets or not stored or not data.draw(
                st.booleans(), label="repeat a stored row's unique columns"):
            return
        columns = data.draw(st.sampled_from(sets), label="unique columns")
        source = stored[data.draw(st.integers(0, len(stored) - 1), label="stored row #")]
        keys = _attr_keys(model)
        for column in columns:
            setattr(instance, keys[column], source[column])

    def _orm_insert(self, model: type[Any], instance: Any) -> tuple[Outcome, Row | None]:
        mapper = sa.inspect(model)
        with self.orm() as session:
            try:
                session.add(instance)
                session.flush()
                key = tuple(mapper.primary_key_from_instance(instance))
                session.commit()
            except ORM_ERRORS as error:
                session.rollback()
                return Outcome(orm_refusal(error), refusal_message(error),
                               *diagnostics_of(error)), None
        return Outcome(None), self._select(model.__table__, key)

    def _wrong_insert_outcome(self, table: sa.Table, record: Row, outcome: Outcome,
                              expected: str | None, collision: tuple[str, ...] | None,
                              dangling: ForeignKeyTarget | None, via: str) -> None:
        name = str(table.name)
        if expected is None:
            self.fail(self._refusal_finding(
                table, outcome, record,
                f"{_a(via)} insert of a row Model.model_validate accepts, into a state where it "
                f"collides with nothing, was refused with {outcome.sqlstate} ({outcome.message})"))
        if collision is not None:
            self.fail(Finding(name, ",".join(collision), "unique", ["metadata"],
                              f"{_a(via)} insert repeating a stored row's ({', '.join(collision)}) "
                              f"gave {outcome.sqlstate or 'stored'}, expected 23505",
                              tuple(record.get(c) for c in collision)))
        assert dangling is not None
        self.fail(Finding(name, ",".join(dangling.columns), dangling.name, ["metadata"],
                          f"{_a(via)} insert referencing a {dangling.parent.__table__.name} row "
                          f"that does not exist (deleted or never stored) gave "
                          f"{outcome.sqlstate or 'stored'}, expected 23503",
                          tuple(record.get(c) for c in dangling.columns)))

    def _check_round_trip(self, table: sa.Table, sent: Row, stored: Row, via: str) -> None:
        # stored_row_mismatches wants a Row; here both sides are column-name dicts.
        for column, value in sent.items():
            back = stored[column]
            if same_stored_value(value, back) or (value is None
                                                  and fills_when_none(table, column)):
                continue  # equal, or a None the column's default (or sequence) replaced
            self.fail(Finding(str(table.name), column, f"type {table.c[column].type}",
                              ["model", "database"],
                              f"{_a(via)} write stored {back!r}, not the value sent", value))

    # ------------------------------------------------------------------ update
    def update(self, model: type[Any], via: str, ref: Ref, data: st.DataObject) -> None:
        table: sa.Table = model.__table__
        name = str(table.name)
        columns = _updatable(table, self.fks)
        fresh = record_of(data.draw(_concise(valid_instances(self.db, model)),
                                    label=f"{name} values").value)
        chosen = data.draw(st.lists(st.sampled_from(columns), min_size=1, max_size=3,
                                    unique=True), label="columns set")
        values = {c: fresh[c] for c in chosen if c in fresh}
        if not values:
            return
        current = self.state.rows[name].get(ref.key)
        expected: str | None = None
        if current is not None:
            merged = {**current, **values}
            why = model_rejection(model, merged)
            if why is not None:  # e.g. a multi-column rule the new values break together
                note(f"skipped: the model rejects the updated row ({why})")
                self.count(f"{name} update: skipped, the model rejects the updated row")
                return
            stamps = managed_timestamps(table)
            if stamps and current[stamps[1]] >= _LAST_ADVANCEABLE:
                note("skipped: updated_at is at the end of Python's datetime range")
                self.count(f"{name} update: skipped, updated_at at the end of the range")
                return
            expected = "23505" if self.state.collision(name, merged, ignore=ref.key) else None
        if via == "sql":
            outcome = attempt(self.db, table.update().where(*self._where(table, ref.key))
                              .values(values).returning(*table.c))
            after = None if outcome.row is None else {c.name: outcome.row._mapping[c]
                                                      for c in table.c}
            reached = after is not None
        else:
            outcome, after, reached = self._orm_update(model, ref.key, values)
        self.count(f"{name} update: "
                   + (outcome.sqlstate or ("stored" if after else "no such row")))
        note(f"{ref!r} update via {via} of {sorted(values)}: "
             + (f"refused with {outcome.sqlstate}" if not outcome.stored
                else "no such row" if after is None else f"now {_short_row(after)}"))
        if current is None:
            if after is not None:
                self.fail(Finding(name, "*", "row deleted", ["database"],
                                  f"{_a(via)} update found a row the model says was deleted",
                                  ref.key))
            return
        if outcome.sqlstate != expected:
            if expected is None:
                self.fail(self._refusal_finding(
                    table, outcome, values,
                    f"{_a(via)} update to values Model.model_validate accepts was refused with "
                    f"{outcome.sqlstate} ({outcome.message})"))
            self.fail(Finding(name, ",".join(values), "unique", ["metadata"],
                              f"{_a(via)} update repeating another row's unique columns gave "
                              f"{outcome.sqlstate or 'stored'}, expected 23505", values))
        if not outcome.stored:
            return
        if after is None:
            self.fail(Finding(name, "*", "row exists", ["database"],
                              f"{_a(via)} update did not find a row the model says exists",
                              ref.key))
        self._check_update(table, current, values, after, reached, via)
        self.state.rows[name][ref.key] = after

    def _orm_update(self, model: type[Any], key: Key, values: Row
                    ) -> tuple[Outcome, Row | None, bool]:
        keys = _attr_keys(model)
        with self.orm() as session:
            obj = session.get(model, key if len(key) > 1 else key[0])
            if obj is None:
                return Outcome(None), None, False
            for column, value in values.items():
                setattr(obj, keys[column], value)
            state = sa.inspect(obj)
            reached = any(state.attrs[keys[c]].history.has_changes() for c in values)
            try:
                session.commit()
            except ORM_ERRORS as error:
                session.rollback()
                return Outcome(orm_refusal(error), refusal_message(error),
                               *diagnostics_of(error)), None, reached
        return Outcome(None), self._select(model.__table__, key), reached

    def _check_update(self, table: sa.Table, before: Row, values: Row, after: Row,
                      reached: bool, via: str) -> None:
        name = str(table.name)
        self._check_round_trip(table, values, after, via)
        stamps = managed_timestamps(table)
        for column in table.columns:
            if column.name in values or (stamps and column.name in stamps):
                continue
            if _set_on_update(column):
                continue  # the app's own onupdate= sets it; no rule declares what to
            if _server_filled(column):
                continue  # filled by the database; no rule about updates
            if not same_stored_value(before[column.name], after[column.name]):
                self.fail(Finding(name, column.name, "untouched by the update", ["database"],
                                  f"{_a(via)} update of {sorted(values)} changed {column.name} "
                                  f"from {before[column.name]!r} to {after[column.name]!r}"))
        if not stamps:
            return
        created, updated = stamps
        if after[created] != before[created]:
            self.fail(Finding(name, created, "created_at is immutable", ["database"],
                              f"{_a(via)} update changed {created} from {before[created]} to "
                              f"{after[created]}"))
        if reached and not after[updated] > before[updated]:
            self.fail(Finding(name, updated, "updated_at advances on update", ["database"],
                              f"{_a(via)} update left {updated} at {after[updated]} (was "
                              f"{before[updated]}): it must move forward on every update"))
        if not reached and after[updated] != before[updated]:
            self.fail(Finding(name, updated, "updated_at changes only on update", ["database"],
                              f"{_a(via)} update that changed nothing moved {updated} from "
                              f"{before[updated]} to {after[updated]}"))

    # ------------------------------------------------------------------ delete
    def delete(self, model: type[Any], via: str, ref: Ref) -> Any:
        table: sa.Table = model.__table__
        name = str(table.name)
        plan = self.state.plan_delete(name, ref.key)
        existed = self.state.exists(ref)
        if via == "sql":
            outcome = attempt(self.db, table.delete().where(*self._where(table, ref.key)))
        else:
            outcome = self._orm_delete(model, ref.key)
        self.count(f"{name} delete: " + (f"refused {outcome.sqlstate}" if not outcome.stored
                                    else f"{plan.removed_count()} row(s) removed"))
        note(f"{ref!r} delete via {via}: "
             + (f"refused with {outcome.sqlstate}" if not outcome.stored else "done")
             + f" (expected {plan.describe() if existed else 'nothing, row already gone'})")
        if outcome.sqlstate != plan.refused:
            self._wrong_delete_outcome(name, ref, plan, outcome, via)
        if not outcome.stored:
            return ref  # still there: keep it in the bundle
        self._check_delete(plan, via)
        for table_name, keys in plan.removed.items():
            for key in keys:
                self.graveyard[table_name][key] = self.state.rows[table_name][key]
        self.state.apply_delete(plan)
        return multiple()

    def _orm_delete(self, model: type[Any], key: Key) -> Outcome:
        with self.orm() as session:
            obj = session.get(model, key if len(key) > 1 else key[0])
            if obj is None:
                return Outcome(None)
            try:
                session.delete(obj)
                session.commit()
            except ORM_ERRORS as error:
                session.rollback()
                return Outcome(orm_refusal(error), refusal_message(error),
                               *diagnostics_of(error))
        return Outcome(None)

    def _wrong_delete_outcome(self, name: str, ref: Ref, plan: DeletePlan, outcome: Outcome,
                              via: str) -> None:
        tally = self.context.cascades if plan.cascaded_by else None
        if plan.refused is not None and plan.refused_by is not None:
            blocker = plan.refused_by
            self.fail(Finding(str(blocker.child.__table__.name), ",".join(blocker.columns),
                              self._fk_rule(blocker), ["metadata", "database"],
                              f"{_a(via)} delete of a {name} row that has children should be "
                              f"refused with {plan.refused}, but it was "
                              f"{outcome.sqlstate or 'carried out'}", ref.key), "on_delete", tally)
        named = self._fk_named(outcome.constraint_name)
        fk = named or (plan.cascaded_by[0] if plan.cascaded_by else None)
        column = ",".join(fk.columns) if fk else "*"
        self.fail(Finding(str(fk.child.__table__.name) if fk else name, column,
                          self._fk_rule(fk) if fk else "delete",
                          ["metadata", "database"],
                          f"{_a(via)} delete of a {name} row should give '{plan.describe()}' "
                          f"under the declared ON DELETE actions, but it was refused with "
                          f"{outcome.sqlstate} ({outcome.message})", ref.key), "on_delete", tally)

    def _check_delete(self, plan: DeletePlan, via: str) -> None:
        tally = self.context.cascades
        for table_name, keys in plan.removed.items():
            table = self.state.tables[table_name]
            left = [key for key in keys if self._select(table, key) is not None]
            if left:
                fk = next((f for f in plan.cascaded_by
                           if f.child.__table__ is table), None)
                rule = self._fk_rule(fk) if fk else "row deleted"
                column = ",".join(fk.columns) if fk else "*"
                self.fail(Finding(table_name, column, rule, ["metadata", "database"],
                                  f"after {_a(via)} delete, {len(left)} {table_name} row(s) that "
                                  f"the declared ON DELETE actions remove are still there",
                                  left[0]), "on_delete", tally)
        for table_name, nulled in plan.nulled.items():
            table = self.state.tables[table_name]
            for key, columns in nulled.items():
                after = self._select(table, key)
                if after is None or any(after[c] is not None for c in columns):
                    fk = next(f for f in self.fks if f.columns == columns
                              and f.child.__table__ is table)
                    self.fail(Finding(table_name, ",".join(columns), self._fk_rule(fk),
                                      ["metadata", "database"],
                                      f"after {_a(via)} delete of its parent the row is "
                                      f"{'gone' if after is None else 'still linked'}, "
                                      "expected its FK nulled", key), "on_delete", tally)
                # SET NULL is an UPDATE: adopt what triggers did to the other columns.
                self.state.rows[table_name][key] = after
        if plan.cascaded_by:
            tally.add("parents deleted with dependants")
            tally.add("dependants removed by ON DELETE CASCADE", plan.removed_count() - 1)

    # ------------------------------------------------------------------ violations
    def insert_violating(self, via: str, data: st.DataObject,
                         strategy: st.SearchStrategy[Shown]) -> None:
        shown = data.draw(strategy, label="violation")
        violation: Violation = shown.value
        table = violation.sa_table
        assert table is not None
        name = str(table.name)
        model = self.models[name]
        if violation.sqlstate == "23503" and self._resolves(table, violation):
            note("skipped: the record collides with, or its reference resolves to, a stored row")
            return
        before = self.state.count()
        run = self.db.connection.begin_nested()
        try:
            refused = attempt_all(self.db, (insert_statement(setup_table, setup_row)
                                            for setup_table, setup_row in violation.setup))
            if refused is not None:
                note(f"skipped: a setup row for {violation.setup[refused[0]][0].name} "
                     "collides with stored rows")
                return
            if via == "sql":
                outcome = attempt(self.db, insert_statement(table, violation.record))
            else:
                outcome = self._orm_insert_unvalidated(model, violation.record)
        finally:
            run.rollback()
        self.count(f"{name} violation refused: {outcome.sqlstate}")
        note(f"violation of {violation.rule} via {via}: "
             + (f"refused with {outcome.sqlstate}" if not outcome.stored else "STORED"))
        constraint = violation.constraint
        if constraint is not None:
            self.context.ledger.count(name, column_key(constraint), constraint.rule,
                                      violations=1)
        layers = layers_of(constraint) if constraint is not None else []
        value = violation.record.get(violation.column, _short_row(violation.record))
        if outcome.stored:
            self.fail(Finding(name, violation.column, violation.rule, layers,
                              f"{_a(via)} insert breaking {violation.rule} was stored (expected "
                              f"SQLSTATE {violation.sqlstate})", value), "violation")
        refused_client_side = outcome.sqlstate is not None and outcome.sqlstate.startswith(
            "refused by SQLAlchemy")
        if outcome.sqlstate != violation.sqlstate and not refused_client_side:
            self.fail(Finding(name, violation.column, violation.rule, layers,
                              f"{_a(via)} insert breaking {violation.rule} was refused with "
                              f"{outcome.sqlstate} ({outcome.message}), expected "
                              f"{violation.sqlstate}", value), "violation")
        if self.state.count() != before:  # the Python model itself must not have moved
            raise AssertionError("a refused insert changed the expected state")

    def _resolves(self, table: sa.Table, violation: Violation) -> bool:
        """Whether a dangling-reference record would meet a stored row after all: its unique
        columns repeat one (23505 comes first), or its reference points at one."""
        if self.state.collision(str(table.name), violation.record):
            return True
        for fk in self.fks:
            if fk.child.__table__ is table and ",".join(fk.columns) == violation.column:
                values = tuple(violation.record.get(c) for c in fk.columns)
                return bool(self.state.parent_rows(fk, values))
        return False

    def _orm_insert_unvalidated(self, model: type[Any], record: Row) -> Outcome:
        keys = _attr_keys(model)
        instance = model(**{keys[k]: v for k, v in record.items()})
        with self.orm() as session:
            try:
                session.add(instance)
                session.flush()
            except ORM_ERRORS as error:
                return Outcome(orm_refusal(error), refusal_message(error),
                               *diagnostics_of(error))
        return Outcome(None)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def database_matches_the_model(self) -> None:
        """The database holds exactly the expected rows, with no orphans, every row valid for
        its model and timestamps in order (one read of every table per step)."""
        snapshot: dict[str, dict[Key, Row]] = {}
        for name, model in self.models.items():
            table: sa.Table = model.__table__
            actual = {self.state.key_of(name, row): row for row in self.read_rows(table)}
            snapshot[name] = actual
            expected = self.state.rows[name]
            extra = actual.keys() - expected.keys()
            missing = expected.keys() - actual.keys()
            if extra or missing:
                key = next(iter(extra or missing))
                self.fail(Finding(name, "*", "rows equal the model", ["database"],
                                  f"the database holds {len(actual)} {name} rows, the model "
                                  f"{len(expected)}: {len(extra)} unexpected, {len(missing)} "
                                  "missing", key))
            for key, row in actual.items():
                if row == self._validated.get((name, key)):
                    continue  # unchanged since the last step: already checked
                for column, value in row.items():
                    if not same_stored_value(expected[key][column], value):
                        self.fail(Finding(name, column, "rows equal the model", ["database"],
                                          f"row {key} holds {value!r} where the model "
                                          f"expects {expected[key][column]!r}", value))
                why = model_rejection(model, row)
                if why is not None:
                    self.fail(Finding(name, why.split(":")[0], "stored rows are valid",
                                      ["model", "database"],
                                      f"the database holds a row the model rejects: {why}",
                                      _short_row(row)))
                stamps = managed_timestamps(table)
                if stamps and row[stamps[1]] < row[stamps[0]]:
                    self.fail(Finding(name, ",".join(stamps), "created_at <= updated_at",
                                      ["database"], f"row {key} has updated_at before "
                                      "created_at", (row[stamps[0]], row[stamps[1]])))
                self._validated[(name, key)] = row
        for fk in self.fks:
            self._no_orphans(fk, snapshot)

    def _no_orphans(self, fk: ForeignKeyTarget, snapshot: dict[str, dict[Key, Row]]) -> None:
        """Every non-null reference in the database's rows resolves to a row it holds."""
        child, parent = str(fk.child.__table__.name), str(fk.parent.__table__.name)
        referenced = [e.column.name for e in fk.constraint.elements]
        targets = {tuple(row[c] for c in referenced) for row in snapshot[parent].values()}
        orphans = [key for key, row in snapshot[child].items()
                   if all(row[c] is not None for c in fk.columns)
                   and tuple(row[c] for c in fk.columns) not in targets]
        if orphans:
            self.fail(Finding(child, ",".join(fk.columns), self._fk_rule(fk),
                              ["metadata", "database"],
                              f"{len(orphans)} {child} row(s) reference a {parent} row that "
                              "does not exist", orphans[0]), "on_delete")


def _violation_strategy(sandbox: Sandbox, models: list[type[Any]], violable: list[Violable],
                        orm: bool) -> st.SearchStrategy[Shown] | None:
    """Violations of any constraint the database enforces (for the ORM: those a flush must
    be refused for), drawn as one ``Shown`` value so the printed step stays one line. Their
    rows keep every other rule of the schema under test, those only the database declares
    included (live_violations): a row breaking a migration-only CHECK besides its own rule
    would be refused for that CHECK, and reported against the wrong rule."""
    by_target: dict[str, st.SearchStrategy[Violation]] = {}
    for v in sorted((v for v in violable if v.model in models
                     and (not orm or enforced_on_flush(v))), key=lambda v: v.test_id):
        try:
            strategy = live_violations(sandbox, v.model, v.constraint)
        except pytest.skip.Exception:
            continue  # no value breaks it alone in the schema under test: not drawn
        by_target[v.test_id] = strategy.filter(lambda drawn: drawn.sqlstate is not None)
    chosen = [v for v in violable if v.test_id in by_target]
    if not chosen:
        return None

    @st.composite
    def draw(draw_: st.DrawFn) -> Shown:
        target = draw_(st.sampled_from(chosen))
        violation: Violation = draw_(by_target[target.test_id])
        value = violation.record.get(violation.column, _short_row(violation.record))
        return Shown(violation, f"<{violation.table}.{violation.column} breaking "
                                f"{violation.rule}: {describe_value(value, 40)}, expect "
                                f"{violation.sqlstate}>")

    return draw()


def generic_machine(context: MachineContext, models: list[type[Any]]
                    ) -> type[GenericMachine]:
    """A machine class over ``models`` bound to ``context``: per table, create/update/delete
    rules via ORM and via SQL and violation rules, with one invariant checking the database
    against the expected state after every step. Raises nothing at build time; rules that
    cannot apply (no updatable column, no violable constraint) are left out."""
    fks = foreign_keys(models)
    declare_timestamp_rules(context.db.connection, [m.__table__ for m in models],
                            context.reference_backend)
    violable = [v for v in violable_constraints(models)[0] if v.constraint.sqlstate is not None]
    bundles = {str(m.__table__.name): Bundle(str(m.__table__.name)) for m in models}
    namespace: dict[str, Any] = {
        "context": context,
        "models": {str(m.__table__.name): m for m in models},
        "fks": fks,
        "catalogue": declare_catalogue(context.ledger, models),
    }
    for model in models:
        name = str(model.__table__.name)
        parent_args = {_identifier("_".join(fk.columns)): bundles[str(fk.parent.__table__.name)]
                       for fk in fks if fk.child is model and fk.parent is not model}
        # One rule per action and table, the client (ORM or SQL) an argument: fewer rules make
        # longer chains (parent, child, grandchild, delete) likely within a short run.
        create_args: dict[str, Any] = {"via": VIA, "data": st.data(), **parent_args}
        namespace[f"create_{name}"] = rule(target=bundles[name], **create_args)(
            _named(f"create_{name}", _create_rule(model)))
        if _updatable(model.__table__, fks):
            namespace[f"update_{name}"] = rule(row=bundles[name], via=VIA, data=st.data())(
                _named(f"update_{name}", _update_rule(model)))
        # Every run starts with one row of each table (fresh ancestors each), so rules on
        # children (update_tasks, ...) apply from the first step instead of after a chain.
        namespace[f"seed_{name}"] = initialize(target=bundles[name], via=VIA, data=st.data())(
            _named(f"seed_{name}", _seed_rule(model)))
        children = sorted({fk.child for fk in fks if fk.parent is model and fk.child is not model},
                          key=lambda m: str(m.__table__.name))
        if children:
            namespace[f"create_{name}_with_children"] = rule(
                target=bundles[name], via=VIA, data=st.data())(
                _named(f"create_{name}_with_children", _family_rule(model, children)))
        namespace[f"delete_{name}"] = rule(
            target=bundles[name], row=consumes(bundles[name]), via=VIA)(
            _named(f"delete_{name}", _delete_rule(model)))
    by_via = {via: _violation_strategy(context.db, models, violable, orm=via == "orm")
              for via in VIAS}
    if by_via["sql"] is not None:
        namespace["insert_violating_row"] = rule(
            via=VIA if by_via["orm"] is not None else st.just("sql"), data=st.data())(
            _named("insert_violating_row", _violation_rule(by_via)))
    label = "_".join(sorted(bundles))
    return type(f"GenericMachine_{label}", (GenericMachine,), namespace)


def _named(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    function.__name__ = function.__qualname__ = name
    return function


def _create_rule(model: type[Any]) -> Callable[..., Any]:
    def create(self: GenericMachine, via: str, data: st.DataObject, **parents: Ref) -> Any:
        return self.create(model, via, data, parents)
    return create


def _seed_rule(model: type[Any]) -> Callable[..., Any]:
    def seed(self: GenericMachine, via: str, data: st.DataObject) -> Any:
        return self.create_with_children(model, [], via, data)
    return seed


def _family_rule(model: type[Any], children: list[type[Any]]) -> Callable[..., Any]:
    def create_with_children(self: GenericMachine, via: str, data: st.DataObject) -> Any:
        return self.create_with_children(model, children, via, data)
    return create_with_children


def _update_rule(model: type[Any]) -> Callable[..., None]:
    def update(self: GenericMachine, row: Ref, via: str, data: st.DataObject) -> None:
        self.update(model, via, row, data)
    return update


def _delete_rule(model: type[Any]) -> Callable[..., Any]:
    def delete(self: GenericMachine, row: Ref, via: str) -> Any:
        return self.delete(model, via, row)
    return delete


def _violation_rule(by_via: dict[str, st.SearchStrategy[Shown] | None]
                    ) -> Callable[..., None]:
    def insert_violating_row(self: GenericMachine, via: str, data: st.DataObject) -> None:
        strategy = by_via[via]
        assert strategy is not None
        self.insert_violating(via, data, strategy)
    return insert_violating_row
