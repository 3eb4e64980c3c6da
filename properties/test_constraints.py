"""The principle, per table and per constraint: what the model accepts, PostgreSQL stores and
reads back equal; what breaks a constraint, PostgreSQL refuses with the SQLSTATE it implies.

Generated per table and per constraint of the models under test (see collection.py); every
disagreement fails with a finding naming the table, column, constraint and layers.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from schemafuzz.checks import (
    VALUE_KINDS,
    Outcome,
    Tallies,
    attempt,
    column_key,
    declare_catalogue,
    insert_instance,
    insert_statement,
    layers_of,
    stored_row_mismatches,
    violation_finding,
)
from schemafuzz.findings import Finding
from schemafuzz.harness import Sandbox, sqlstate_of
from schemafuzz.report import Ledger
from schemafuzz.strategies import Constraint, Kind, graphs, violations
from schemafuzz.subject import table_models
from schemafuzz.targets import Violable, fills_when_none

pytestmark = pytest.mark.filterwarnings("ignore::schemafuzz.strategies.SkippedConstraintWarning")


@pytest.fixture(scope="session")
def catalogue(schemafuzz_models: Any, schemafuzz_ledger: Ledger) -> dict[str, list[Constraint]]:
    """Every constraint of the models under test, declared in the coverage report."""
    return declare_catalogue(schemafuzz_ledger, list(table_models(schemafuzz_models)))


def _fail(ledger: Ledger, finding: Finding) -> None:
    # A finding may concern a rule outside the catalogue (one only the live database has).
    ledger.declare(finding.table, finding.column, finding.rule, "finding", finding.layers)
    ledger.finding(finding.table, finding.column, finding.rule, finding.what)
    pytest.fail(str(finding), pytrace=False)


@given(data=st.data())
def test_valid_rows_are_stored_and_read_back_equal(
        schemafuzz_db: Sandbox, table_model: type[Any], catalogue: dict[str, list[Constraint]],
        schemafuzz_ledger: Ledger, data: st.DataObject) -> None:
    table = table_model.__table__
    rows = data.draw(graphs([table_model], min_rows={table.name: 1}), label="rows")
    for instance in rows:
        row_table = type(instance).__table__
        sent, outcome = insert_instance(schemafuzz_db, instance)
        if not outcome.stored:
            column = _column_named_by(row_table, outcome)
            _fail(schemafuzz_ledger, Finding(
                row_table.name, column, outcome.constraint_name or f"SQLSTATE {outcome.sqlstate}",
                ["model"],
                f"Model.model_validate accepts this row but PostgreSQL refuses it with SQLSTATE "
                f"{outcome.sqlstate} ({outcome.message})",
                sent.get(column, sent)))
        assert outcome.row is not None
        for column, value, stored in stored_row_mismatches(row_table, sent, outcome.row):
            _fail(schemafuzz_ledger, Finding(
                row_table.name, column, f"type {row_table.c[column].type}", ["model", "database"],
                f"stored {stored!r} but {value!r} was sent (not read back equal)", value))
        for constraint in catalogue.get(row_table.name, []):
            schemafuzz_ledger.count(constraint.table, column_key(constraint), constraint.rule,
                                  valid=1)


def _column_named_by(table: sa.Table, outcome: Outcome) -> str:
    """The column an error is about: PostgreSQL's diagnostics name it for most errors; for a
    bad enum label only the type is named, so find the column of that type."""
    if outcome.column_name:
        return outcome.column_name
    for column in table.columns:
        name = getattr(column.type, "name", None)
        if isinstance(column.type, sa.Enum) and name and f"enum {name}" in outcome.message:
            return str(column.name)
    return "?"


def _advice(constraint: Constraint) -> str:
    """How to make the model refuse what the database refuses, where there is a usual way."""
    params = constraint.params
    if constraint.kind == Kind.TYPE and "min" in params:
        return (f" (bound the field: Field(ge={params['min']}, le={params['max']}), or use a "
                "wider column type)")
    if constraint.kind == Kind.MAX_LENGTH and "max" in params:
        return f" (declare Field(max_length={params['max']}))"
    if constraint.kind == Kind.NOT_NULL:
        return " (the field is Optional in the model but NOT NULL in the database)"
    return ""


def _model_should_refuse(constraint: Constraint, table: Any) -> bool:
    """Whether a value breaking this database rule must also be refused by the model: rules
    about a single value, except NULL into a column whose default fills a None."""
    if constraint.kind not in VALUE_KINDS:
        return False
    if constraint.kind == Kind.NOT_NULL:
        return not any(fills_when_none(table, name) for name in constraint.columns)
    return True


@given(data=st.data())
def test_violations_are_refused_with_their_sqlstate(
        schemafuzz_db: Sandbox, violable: Violable, catalogue: dict[str, list[Constraint]],
        schemafuzz_ledger: Ledger, schemafuzz_tallies: Tallies, data: st.DataObject) -> None:
    constraint = violable.constraint
    fk_tally = schemafuzz_tallies["SC-002"] if constraint.kind == Kind.FOREIGN_KEY else None
    violation = data.draw(violations(violable.model, constraint=constraint), label="violation")
    for setup_table, setup_row in violation.setup:
        outcome = attempt(schemafuzz_db, insert_statement(setup_table, setup_row))
        if not outcome.stored:
            _fail(schemafuzz_ledger, Finding(
                setup_table.name, outcome.column_name or "?",
                outcome.constraint_name or f"SQLSTATE {outcome.sqlstate}", ["model"],
                f"a valid parent row was refused: {outcome.message}", setup_row))
    assert violation.sa_table is not None
    outcome = attempt(schemafuzz_db, insert_statement(violation.sa_table, violation.record))
    key = (violation.table, column_key(constraint), constraint.rule)
    schemafuzz_ledger.count(*key, violations=1)
    if violation.sqlstate is None:
        # A rule only the model enforces: the report shows it as model-only; the model must
        # still refuse the value, or the rule is enforced nowhere.
        if not violation.model_rejects:
            _fail(schemafuzz_ledger, violation_finding(
                violation, "neither the model nor the database refuses this value"))
        return
    if fk_tally is not None:
        fk_tally.add(f"dangling {constraint.rule} references tried")
        fk_tally.ok = fk_tally.ok and outcome.sqlstate == "23503"
        fk_tally.add("refused with 23503", int(outcome.sqlstate == "23503"))
    if outcome.stored:
        _fail(schemafuzz_ledger, violation_finding(
            violation, f"breaks {constraint.rule} ({', '.join(layers_of(constraint))}) but "
            f"PostgreSQL stored it (expected SQLSTATE {violation.sqlstate})"))
    if outcome.sqlstate != violation.sqlstate:
        _fail(schemafuzz_ledger, violation_finding(
            violation, f"PostgreSQL refused it with SQLSTATE {outcome.sqlstate} "
            f"({outcome.message}), expected {violation.sqlstate}"))
    if _model_should_refuse(constraint, violation.sa_table) and not violation.model_rejects:
        _fail(schemafuzz_ledger, violation_finding(
            violation, f"PostgreSQL refuses it (SQLSTATE {outcome.sqlstate}) but "
            f"Model.model_validate accepts it{_advice(constraint)}"))


@given(data=st.data())
def test_unvalidated_table_instances_are_refused_on_flush(
        schemafuzz_db: Sandbox, db_enforced: Violable, schemafuzz_ledger: Ledger,
        data: st.DataObject) -> None:
    """SQLModel ``table=True`` models skip validation on construction: an invalid instance
    flushed through the ORM must be refused, by the database or by SQLAlchemy's column types,
    for every rule the database is meant to enforce."""
    violable = db_enforced
    constraint = violable.constraint
    # Over-long values whose excess is only spaces are truncated by varchar(n), not refused:
    # strategies marks them model-only (sqlstate None); they are not for this probe.
    violation = data.draw(violations(violable.model, constraint=constraint).filter(
        lambda v: v.sqlstate is not None), label="violation")
    for setup_table, setup_row in violation.setup:
        assume(attempt(schemafuzz_db, insert_statement(setup_table, setup_row)).stored)
    mapper = sa.inspect(violable.model)
    by_column = {attr.columns[0].name: attr.key for attr in mapper.column_attrs}
    instance = violable.model(**{by_column[k]: v for k, v in violation.record.items()})
    session = schemafuzz_db.session()
    savepoint = schemafuzz_db.connection.begin_nested()
    refused_by: str | None = None
    try:
        session.add(instance)
        session.flush()
    except DBAPIError as error:
        refused_by = f"the database (SQLSTATE {sqlstate_of(error)})"
    except (SQLAlchemyError, LookupError, ValueError, TypeError) as error:
        refused_by = f"SQLAlchemy ({type(error).__name__})"
    finally:
        session.close()
        if savepoint.is_active:
            savepoint.rollback()
    if refused_by is None:
        _fail(schemafuzz_ledger, violation_finding(
            violation, f"{violable.model.__name__}(...) built without validation and flushed "
            f"through the ORM was stored although it breaks {constraint.rule} "
            f"(expected SQLSTATE {violation.sqlstate})"))
