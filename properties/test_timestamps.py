"""Timestamps: stored as timestamptz, filled by the database when a client omits them (ORM and
raw SQL), ``created_at <= updated_at``, and an update from any client moves ``updated_at``
forward while ``created_at`` stays what it was.

Generic over every datetime column of the models under test; the ordering and update rules
apply only where something declares them (a CHECK relating ``created_at`` and ``updated_at``, a
trigger, or the reference backend's spec): the naming convention alone is not the app's rule.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError

from schemafuzz.findings import Finding
from schemafuzz.fixtures import Verdict
from schemafuzz.harness import Sandbox, sqlstate_of
from schemafuzz.live_rows import valid_graphs
from schemafuzz.outcomes import (
    Tallies,
    Tally,
    attempt,
    insert_statement,
    record_of,
    refused_valid_row,
)
from schemafuzz.report import Ledger
from schemafuzz.stateful.generic import declare_timestamp_rules, timestamp_rules_declared
from schemafuzz.strategies import valid
from schemafuzz.strategies._types import base_type, is_datetime_type
from schemafuzz.subject import under_test_of

pytestmark = pytest.mark.filterwarnings("ignore::schemafuzz.strategies.SkippedConstraintWarning")


def _datetime_columns(table: sa.Table) -> list[sa.Column[Any]]:
    return [c for c in table.columns if is_datetime_type(c.type)]


def _fail(ledger: Ledger, tally: Tally | None, finding: Finding) -> None:
    if tally is not None:
        tally.ok = False
    ledger.declare(finding.table, finding.column, finding.rule, "timestamp",
                   list(finding.layers))
    ledger.finding(finding.table, finding.column, finding.rule, finding.note)
    pytest.fail(str(finding), pytrace=False)


@pytest.fixture
def timestamp_tally(schemafuzz_tallies: Tallies) -> Tally:
    """This test's counts for SC-007 (timestamps auto-populated)."""
    return schemafuzz_tallies["SC-007"]


def test_datetime_columns_are_timestamptz(schemafuzz_db: Sandbox, table_model: type[Any],
                                          schemafuzz_ledger: Ledger) -> None:
    table: sa.Table = table_model.__table__
    live: dict[str, str] = dict(schemafuzz_db.connection.execute(sa.text(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = :t"), {"t": table.name}).all())
    for column in _datetime_columns(table):
        if not base_type(column.type).timezone:
            _fail(schemafuzz_ledger, None, Finding(
                table.name, column.name, "timestamptz", ["metadata"],
                "the model maps it to DateTime(timezone=False): aware datetimes lose their "
                "offset; use DateTime(timezone=True)"))
        if column.name not in live:
            _fail(schemafuzz_ledger, None, Finding(
                table.name, column.name, "timestamptz", ["database"],
                "the schema under test has no such column (see the schema comparison)"))
        if live[column.name] != "timestamp with time zone":
            _fail(schemafuzz_ledger, None, Finding(
                table.name, column.name, "timestamptz", ["database"],
                f"the database column is '{live[column.name]}', not 'timestamp with time "
                "zone': instants are stored without their offset"))


def _omitted_defaults(table: sa.Table) -> list[sa.Column[Any]]:
    return [c for c in _datetime_columns(table) if c.server_default is not None]


@functools.cache
def _no_database_stamps(metadata: sa.MetaData) -> str | None:
    """Why SC-007 does not apply, when no datetime column of the app has a database default
    (its timestamps, if any, are the application's to fill: ``default_factory``); None when
    one has. Read once per MetaData, not once per example."""
    tables = metadata.tables.values()
    if any(_omitted_defaults(table) for table in tables):
        return None
    filled = ", ".join(f"{table.name}.{c.name}" for table in tables
                       for c in _datetime_columns(table))
    return "no datetime column has a database default" + (
        f" ({filled}: filled by the application, if at all)" if filled else "")


def _parents_for(schemafuzz_db: Sandbox, model: type[Any], data: st.DataObject,
                 verdict: Verdict) -> dict[str | tuple[str, ...], list[Any]]:
    """Existing parent keys for each FK column of ``model``, made with valid rows; skips
    when a root cause blocks one of the tables, and reports a refused parent as one."""
    table: sa.Table = model.__table__
    rows = data.draw(valid_graphs(schemafuzz_db, [model], min_rows={table.name: 1}, max_rows=1),
                     label="parents")
    verdict.check({type(instance).__table__.name for instance in rows})
    parents: dict[str | tuple[str, ...], list[Any]] = {}
    for instance in rows:
        if type(instance) is model:
            continue
        record = record_of(instance)
        outcome = attempt(schemafuzz_db, insert_statement(type(instance).__table__, record))
        if not outcome.stored:
            refused_valid_row(verdict, schemafuzz_db, type(instance), outcome, record,
                              "a valid parent row was refused")
    for fk in table.foreign_keys:
        ref = fk.column
        keys = schemafuzz_db.connection.execute(sa.select(ref).limit(5)).scalars().all()
        parents[fk.parent.name] = list(keys)
    return parents


@given(data=st.data())
def test_database_fills_omitted_defaults(
        schemafuzz_db: Sandbox, table_model: type[Any], schemafuzz_ledger: Ledger,
        timestamp_tally: Tally, schemafuzz_verdict: Verdict, stamps_declared: bool,
        data: st.DataObject) -> None:
    """Any subset of the columns with a server default may be omitted, through SQL or the ORM:
    the row the model accepts is stored, the database fills them (timestamps aware), and
    where the rules are declared (:func:`stamps_declared`) ``created_at <= updated_at`` holds,
    also when only one of the pair was given."""
    table: sa.Table = table_model.__table__
    defaults = sorted((c for c in table.columns if c.server_default is not None),
                      key=lambda c: c.name)
    why_not_applicable = _no_database_stamps(table.metadata)
    if why_not_applicable is not None:
        schemafuzz_ledger.not_applicable("SC-007", why_not_applicable)
    if not defaults:
        pytest.skip(f"{table.name} has no column with a server default")
    parents = _parents_for(schemafuzz_db, table_model, data, schemafuzz_verdict)
    instance = data.draw(valid(table_model, parents=parents), label="row")
    omitted = data.draw(st.sets(st.sampled_from([c.name for c in defaults]), min_size=1),
                        label="omitted")
    record = {k: v for k, v in record_of(instance).items() if k not in omitted}
    via = data.draw(st.sampled_from(["sql", "orm"]), label="client")
    # SC-007 is about timestamps: an insert leaving only other defaults (a boolean's false)
    # to the database is checked the same way but is no measurement of it.
    tally = timestamp_tally if any(is_datetime_type(table.c[n].type) for n in omitted) else None
    mapper = sa.inspect(table_model)
    refused: str | None = None
    if via == "sql":
        outcome = attempt(schemafuzz_db, insert_statement(table, record).returning(*table.c))
        refused = None if outcome.stored else f"SQLSTATE {outcome.sqlstate} ({outcome.message})"
        stored = outcome.row._mapping if outcome.row is not None else {}
        values = {name: stored[table.c[name]] for name in omitted} if stored else {}
        pair = {name: stored[table.c[name]] for name in ("created_at", "updated_at")
                if name in table.c} if stored else {}
    else:
        session = schemafuzz_db.session()
        obj = table_model(**{a.key: record.get(a.columns[0].name) for a in mapper.column_attrs
                             if a.columns[0].name in record})
        session.add(obj)
        try:
            session.flush()
        except DBAPIError as error:
            refused = f"SQLSTATE {sqlstate_of(error)}"
        values, pair = {}, {}
        if refused is None:
            session.refresh(obj)
            names = set(omitted) | ({"created_at", "updated_at"} & set(table.c.keys()))
            read = {n: getattr(obj, mapper.get_property_by_column(table.c[n]).key)
                    for n in names}
            values = {n: read[n] for n in omitted}
            pair = {n: read[n] for n in ("created_at", "updated_at") if n in read}
    if tally is not None:
        tally.add(f"{via} inserts with timestamps omitted")
    if refused is not None:
        _fail(schemafuzz_ledger, tally, Finding(
            table.name, ",".join(sorted(omitted)), "server default", ["metadata", "database"],
            f"Model.model_validate accepts the row, but a {via} insert leaving "
            f"{', '.join(sorted(omitted))} to the database was refused: {refused}",
            {k: v for k, v in record.items() if k in ("created_at", "updated_at")} or None))
    for name, value in values.items():
        is_datetime = is_datetime_type(table.c[name].type)
        if value is None or (is_datetime and (not isinstance(value, dt.datetime)
                                              or value.tzinfo is None)):
            _fail(schemafuzz_ledger, tally, Finding(
                table.name, name, "server default", ["metadata", "database"],
                f"a {via} insert that omits {name} reads back {value!r}: expected a value "
                "filled by the database" + (" (an aware datetime)" if is_datetime else "")))
    if stamps_declared and len(pair) == 2 and pair["created_at"] > pair["updated_at"]:
        _fail(schemafuzz_ledger, tally, Finding(
            table.name, "created_at,updated_at", "created_at <= updated_at", ["database"],
            f"stored created_at {pair['created_at']} after updated_at {pair['updated_at']}"))
    if tally is not None:
        tally.add("filled, aware and ordered")


@pytest.fixture
def stamps_declared(pytestconfig: pytest.Config, schemafuzz_db: Sandbox,
                    table_model: type[Any]) -> bool:
    """Whether something declares the table's timestamp rules (created_at kept, updated_at
    advancing and not before created_at): a CHECK relating them, a trigger, or the reference
    backend's spec. A naming convention alone is not a rule the app made. Read once per test,
    not once per example."""
    table: sa.Table = table_model.__table__
    declare_timestamp_rules(schemafuzz_db.connection, [table],
                            under_test_of(pytestconfig).reference_backend)
    return timestamp_rules_declared(table)


def _has_update_rule(model: type[Any]) -> bool:
    """Tables whose ``created_at`` the database fills (and so must keep)."""
    table: sa.Table = model.__table__
    return "created_at" in table.c and table.c.created_at.server_default is not None


def _touchable_column(table: sa.Table) -> sa.Column[Any]:
    """A column an UPDATE can set to itself (fires BEFORE UPDATE triggers, changes nothing)."""
    for column in table.columns:
        if not column.primary_key and not is_datetime_type(column.type):
            return column
    return next(iter(table.primary_key.columns))


@given(data=st.data())
def test_updates_keep_created_at_and_advance_updated_at(
        schemafuzz_db: Sandbox, table_model: type[Any], schemafuzz_ledger: Ledger,
        timestamp_tally: Tally, schemafuzz_verdict: Verdict, stamps_declared: bool,
        data: st.DataObject) -> None:
    table: sa.Table = table_model.__table__
    if not _has_update_rule(table_model):
        pytest.skip(f"{table.name} has no created_at filled by the database")
    if not stamps_declared:
        pytest.skip(f"{table.name}: no CHECK, trigger or spec declares rules for its timestamps")
    has_updated_at = "updated_at" in table.c
    parents = _parents_for(schemafuzz_db, table_model, data, schemafuzz_verdict)
    instance = data.draw(valid(table_model, parents=parents), label="row")
    record = record_of(instance)
    outcome = attempt(schemafuzz_db, insert_statement(table, record).returning(*table.c))
    if not outcome.stored:
        refused_valid_row(schemafuzz_verdict, schemafuzz_db, table_model, outcome, record,
                          "Model.model_validate accepts this row but PostgreSQL refuses it")
    assert outcome.row is not None
    before = outcome.row._mapping
    where = [c == before[c] for c in table.primary_key.columns]
    touched = _touchable_column(table)
    via = data.draw(st.sampled_from(["sql", "sql rewriting both", "orm"]), label="client")
    if via == "orm":
        session = schemafuzz_db.session()
        key = tuple(before[c] for c in table.primary_key.columns)
        obj = session.get(table_model, key if len(key) > 1 else key[0])
        prop = sa.inspect(table_model).get_property_by_column(touched)
        sa.orm.attributes.flag_modified(obj, prop.key)
        session.flush()
        session.expire(obj)
    else:
        values: dict[str, Any] = {touched.name: touched}
        if via == "sql rewriting both":
            values["created_at"] = table.c.created_at - dt.timedelta(days=3)
            if has_updated_at:
                values["updated_at"] = table.c.updated_at - dt.timedelta(days=3)
        schemafuzz_db.connection.execute(table.update().where(*where).values(values))
    columns = [table.c.created_at] + ([table.c.updated_at] if has_updated_at else [])
    after = schemafuzz_db.connection.execute(sa.select(*columns).where(*where)).one()
    timestamp_tally.add(f"{via} updates")
    if after.created_at != before[table.c.created_at]:
        _fail(schemafuzz_ledger, timestamp_tally, Finding(
            table.name, "created_at", "created_at is immutable", ["database"],
            f"a {via} update changed created_at from {before[table.c.created_at]} to "
            f"{after.created_at}"))
    if has_updated_at and not after.updated_at > before[table.c.updated_at]:
        _fail(schemafuzz_ledger, timestamp_tally, Finding(
            table.name, "updated_at", "updated_at advances on update", ["database"],
            f"a {via} update left updated_at at {after.updated_at} (was "
            f"{before[table.c.updated_at]}): it must move forward on every update"))
    timestamp_tally.add("advanced, created_at kept")


def test_messages_have_no_updated_at(pytestconfig: pytest.Config, schemafuzz_metadata: sa.MetaData
                                     ) -> None:
    if not under_test_of(pytestconfig).reference_backend:
        pytest.skip("app-specific: the reference backend's messages table is append-only")
    assert "updated_at" not in schemafuzz_metadata.tables["messages"].c
