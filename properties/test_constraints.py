"""The principle, per table and per constraint: what the model accepts, PostgreSQL stores and
reads back equal; what breaks a constraint, PostgreSQL refuses with the SQLSTATE it implies.

Generated per table and per constraint of the models under test (see collection.py); every
disagreement fails with a finding naming the table, column, constraint and layers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from schemafuzz.findings import UNGUARDED, Finding
from schemafuzz.fixes import database_rule_fix, model_rule_fix
from schemafuzz.fixtures import Verdict
from schemafuzz.harness import Sandbox, sqlstate_of
from schemafuzz.live_rows import live_violations, valid_graphs
from schemafuzz.outcomes import (
    VALUE_KINDS,
    Outcome,
    Tallies,
    Tally,
    attempt,
    attempt_all,
    column_key,
    declare_catalogue,
    insert_instance,
    insert_statement,
    layers_of,
    model_of_table,
    refused_valid_row,
    short,
    stored_row_mismatches,
    violation_finding,
)
from schemafuzz.report import Ledger
from schemafuzz.strategies import (
    Constraint,
    Kind,
    Layer,
    Violation,
    constraints,
    violations,
)
from schemafuzz.subject import table_models
from schemafuzz.targets import Violable, database_generated_key, fills_when_none
from schemafuzz.verdicts import finding_cause, rule_keys

pytestmark = pytest.mark.filterwarnings("ignore::schemafuzz.strategies.SkippedConstraintWarning")


@pytest.fixture(scope="session")
def catalogue(schemafuzz_models: Any, schemafuzz_ledger: Ledger) -> dict[str, list[Constraint]]:
    """Every constraint of the models under test, declared in the coverage report."""
    return declare_catalogue(schemafuzz_ledger, list(table_models(schemafuzz_models)))


def _fail(verdict: Verdict, finding: Finding) -> None:
    verdict.conclude(finding)  # drift: fails


@given(data=st.data())
def test_valid_rows_are_stored_and_read_back_equal(
        schemafuzz_db: Sandbox, table_model: type[Any], catalogue: dict[str, list[Constraint]],
        schemafuzz_ledger: Ledger, schemafuzz_verdict: Verdict, data: st.DataObject) -> None:
    table = table_model.__table__
    rows = data.draw(valid_graphs(schemafuzz_db, [table_model], min_rows={table.name: 1}),
                     label="rows")
    schemafuzz_verdict.check({type(instance).__table__.name for instance in rows})
    for instance in rows:
        row_table = type(instance).__table__
        sent, outcome = insert_instance(schemafuzz_db, instance)
        if not outcome.stored:
            refused_valid_row(schemafuzz_verdict, schemafuzz_db, type(instance), outcome, sent,
                              "Model.model_validate accepts this row but PostgreSQL refuses it")
        assert outcome.row is not None
        for column, value, stored in stored_row_mismatches(row_table, sent, outcome.row):
            finding = Finding(
                row_table.name, column, f"type {row_table.c[column].type}", ["model", "database"],
                f"stored {short(stored)} but {short(value)} was sent (not read back equal)",
                value)
            # A parent's column met again in the rows of its child tables: reported once.
            schemafuzz_verdict.check_cause(finding_cause(finding))
            _fail(schemafuzz_verdict, finding)
        for constraint in catalogue.get(row_table.name, []):
            schemafuzz_ledger.count(constraint.table, column_key(constraint), constraint.rule,
                                  valid=1)


def _advice(constraint: Constraint) -> str:
    """How to make the model refuse what the database refuses, where there is a usual way."""
    params = constraint.params
    if constraint.layers == {Layer.DATABASE}:
        return (" (only the database declares this rule: add it to the model, e.g. as a Field "
                "constraint or a validator, or drop it from the schema)")
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
    about a single value, except NULL into a column whose default fills a None, and values of
    a key the database generates (serial, identity), which the app never supplies."""
    if constraint.kind not in VALUE_KINDS:
        return False
    if constraint.kind == Kind.NOT_NULL:
        return not any(fills_when_none(table, name) for name in constraint.columns)
    return not any(database_generated_key(table, name) for name in constraint.columns)


def _unguarded(verdict: Verdict, violation: Violation, outcome: Outcome) -> None:
    """A rule only the model enforces, with the violating value sent through SQL: refused
    (the database guards it after all, through its type), changed on the way in (coercion:
    numeric rounding, varchar truncating spaces) or stored as sent, which makes it
    unguarded."""
    constraint = violation.constraint
    assert constraint is not None and violation.sa_table is not None
    if all(database_generated_key(violation.sa_table, c) for c in constraint.columns):
        return  # a rule on a key the database generates: the app never supplies it
    if not violation.model_rejects:
        _fail(verdict, violation_finding(
            violation, "neither the model nor the database refuses this value"))
    if not outcome.stored:
        return
    assert outcome.row is not None
    changed = stored_row_mismatches(violation.sa_table, {
        k: v for k, v in violation.record.items() if k in constraint.columns}, outcome.row)
    key = (violation.table, column_key(constraint), constraint.rule)
    if changed:
        _, sent, stored = changed[0]
        if not verdict.ledger.entries[key].coerced:  # one example says it; not one per example
            verdict.ledger.finding(*key, f"PostgreSQL changes a value breaking it instead of "
                                   f"refusing it, e.g. {short(sent, 30)} was stored as "
                                   f"{short(stored, 30)}", "coerced")
        return
    if constraint.layers - {Layer.MODEL}:  # the metadata (or the database) declares it too
        # The same disagreement as a violation PostgreSQL stores although it was meant to
        # refuse it (an over-long value whose excess is spaces, into a column widened to
        # text): the same fix and root cause, whichever of the two examples shrinking ends on.
        verdict.conclude(replace(violation_finding(
            violation, f"breaks {constraint.rule} ({', '.join(layers_of(constraint))}) but "
            "PostgreSQL stored it unchanged"), fix=database_rule_fix(constraint)),
            cause=_stored_violation(constraint))
    finding = violation_finding(
        violation, "only the model refuses this value: PostgreSQL stored it (SQL clients and "
        f"table=True instances built without validation bypass the model); {_guard(constraint)}"
        f" or accept it with accept_unguarded = [\"{violation.table}.{column_key(constraint)}:"
        f"{_accept_key(constraint)}\"] in [tool.schemafuzz]")
    verdict.conclude(replace(finding, kind=UNGUARDED, fix=database_rule_fix(constraint)),
                     keys=_keys(constraint))


def _accept_key(constraint: Constraint) -> str:
    """The name accept_unguarded is shown to use: the kind (``min_length``), or for a range
    or digits rule its keyword (``ge``, ``max_digits``)."""
    if constraint.kind in (Kind.RANGE, Kind.DIGITS) and constraint.params:
        return str(next(iter(constraint.params)))
    return str(constraint.kind)


def _keys(constraint: Constraint) -> set[str]:
    keys = rule_keys(str(constraint.kind), constraint.rule, constraint.params)
    return {k for k in keys if k.isidentifier()} or keys


def _guard(constraint: Constraint) -> str:
    """The database rule that would enforce a model-only rule."""
    column = constraint.columns[0] if constraint.columns else "the column"
    params = constraint.params
    if constraint.kind == Kind.NOT_NULL:
        return f"make the column NOT NULL (op.alter_column({constraint.table!r}, {column!r}, " \
               "nullable=False))"
    if constraint.kind == Kind.MIN_LENGTH:
        return f"add CHECK (char_length({column}) >= {params.get('min')})"
    if constraint.kind == Kind.RANGE and params:
        (op, bound), = params.items()
        sql = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[op]
        return f"add CHECK ({column} {sql} {bound})"
    if constraint.kind == Kind.MAX_LENGTH:
        return f"use VARCHAR({params.get('max')}) for the column"
    if constraint.kind == Kind.PATTERN:
        return f"add CHECK ({column} ~ '{params.get('pattern')}')"
    if constraint.kind == Kind.ENUM:
        return "store it as a native enum or add a CHECK listing the labels"
    return "add a CHECK that enforces it"


def _as_stored(table: sa.Table) -> list[Any]:
    """The table's columns as the database stores them: a column of the app's own type
    (TypeDecorator) is read as its underlying type, since a value breaking a rule need not
    be one the app's ``process_result_value`` can read."""
    return [sa.type_coerce(column, column.type.impl_instance).label(column.name)
            if isinstance(column.type, sa.TypeDecorator) else column for column in table.c]


def _stored_violation(constraint: Constraint) -> str:
    """The root-cause key of "the database stores what breaks this rule": the flush probe of
    the same rule would only say it again."""
    return f"stored violation: {constraint.table}.{column_key(constraint)}: {constraint.rule}"


def insert_setup(verdict: Verdict, sandbox: Sandbox, model: type[Any], violation: Violation,
                 own_table_blocks: bool = True) -> None:
    """Insert the setup rows (parents, the row a duplicate repeats) of a violation of
    ``model``'s table, as the example's first writes; a refused one is a root cause blocking
    its table's tests. Skips when a
    root cause blocks one of the tables (the violation's own only when ``own_table_blocks``)."""
    tables = {table.name for table, _ in violation.setup}
    verdict.check(tables | {violation.table} if own_table_blocks else tables - {violation.table})
    # The example's first writes: no savepoint of their own (a refusal rewinds the example).
    refused = attempt_all(sandbox, (insert_statement(setup_table, setup_row)
                                    for setup_table, setup_row in violation.setup),
                          start_example=True)
    if refused is not None:
        index, outcome = refused
        setup_table, setup_row = violation.setup[index]
        refused_valid_row(verdict, sandbox, model_of_table(model, setup_table), outcome,
                          setup_row,
                          "a valid row (a parent or the row a duplicate repeats) was refused")


@given(data=st.data())
def test_violations_are_refused_with_their_sqlstate(
        schemafuzz_db: Sandbox, violable: Violable, catalogue: dict[str, list[Constraint]],
        schemafuzz_ledger: Ledger, schemafuzz_tallies: Tallies, schemafuzz_verdict: Verdict,
        data: st.DataObject) -> None:
    constraint = violable.constraint
    violation = data.draw(live_violations(schemafuzz_db, violable.model, constraint),
                          label="violation")
    fk_tally = schemafuzz_tallies["SC-002"] if constraint.kind == Kind.FOREIGN_KEY else None
    insert_setup(schemafuzz_verdict, schemafuzz_db, violable.model, violation)
    _refused_with_its_sqlstate(schemafuzz_db, violation, schemafuzz_ledger, schemafuzz_verdict,
                               fk_tally)


def _refused_with_its_sqlstate(sandbox: Sandbox, violation: Violation, ledger: Ledger,
                               verdict: Verdict, fk_tally: Tally | None = None) -> None:
    """Insert a violation (its setup rows already in) and conclude: PostgreSQL must refuse it
    with its SQLSTATE, and the model must refuse it too where the rule is about one value; a
    model-only rule goes to :func:`_unguarded`. Fails through ``verdict`` with the finding."""
    constraint = violation.constraint
    assert constraint is not None and violation.sa_table is not None
    outcome = attempt(sandbox, insert_statement(violation.sa_table, violation.record)
                      .returning(*_as_stored(violation.sa_table)), ends_example=True)
    key = (violation.table, column_key(constraint), constraint.rule)
    ledger.count(*key, violations=1)
    if violation.sqlstate is None:
        _unguarded(verdict, violation, outcome)
        return
    if fk_tally is not None:
        fk_tally.add(f"dangling {constraint.rule} references tried")
        fk_tally.ok = fk_tally.ok and outcome.sqlstate == "23503"
        fk_tally.add("refused with 23503", int(outcome.sqlstate == "23503"))
    if outcome.stored:
        verdict.conclude(replace(violation_finding(
            violation, f"breaks {constraint.rule} ({', '.join(layers_of(constraint))}) but "
            f"PostgreSQL stored it (expected SQLSTATE {violation.sqlstate})"),
            fix=database_rule_fix(constraint)), cause=_stored_violation(constraint))
    if outcome.sqlstate != violation.sqlstate:
        _fail(verdict, violation_finding(
            violation, f"PostgreSQL refused it with SQLSTATE {outcome.sqlstate} "
            f"({outcome.message}), expected {violation.sqlstate}"))
    if _model_should_refuse(constraint, violation.sa_table) and not violation.model_rejects:
        fix = model_rule_fix(constraint)
        _fail(verdict, replace(violation_finding(
            violation, f"PostgreSQL refuses it (SQLSTATE {outcome.sqlstate}) but "
            f"Model.model_validate accepts it{'' if fix else _advice(constraint)}"), fix=fix))


def _database_only(model: type[Any], connection: sa.Connection) -> list[Constraint]:
    """The rules of ``model``'s table that only the schema under test declares (a CHECK, a
    unique constraint, a NOT NULL or an FK added by a migration or the SQL file and absent from
    the models), read from its live catalogue. Server defaults are not rules a value can break
    (a serial key's ``nextval`` is one); the schema comparison covers them."""
    return [c for c in constraints(model, connection)
            if c.layers == {Layer.DATABASE} and c.kind != Kind.SERVER_DEFAULT]


def _violable_here(model: type[Any], connection: sa.Connection, constraint: Constraint) -> bool:
    """Whether ``violations()`` can break ``constraint`` alone on this schema."""
    if constraint.kind == Kind.UNSUPPORTED or not constraint.generated:
        return False
    try:
        violations(model, connection=connection, constraint=constraint)
    except ValueError:
        return False
    return True


def test_database_only_constraints_are_refused_with_their_sqlstate(
        schemafuzz_db: Sandbox, table_model: type[Any], schemafuzz_ledger: Ledger,
        schemafuzz_verdict: Verdict) -> None:
    """A rule the database has and the models lack is a constraint too: it is declared in
    the coverage report with its one layer and broken, one rule at a time, by rows that keep
    every other rule (the live catalogue's included). Which rules these are is known only once
    the schema under test exists, so the test reads them here and runs one Hypothesis search
    per rule; a finding on one rule does not hide the others (all are reported at the end)."""
    connection = schemafuzz_db.connection
    exercised: list[Constraint] = []
    for constraint in _database_only(table_model, connection):
        schemafuzz_ledger.declare(constraint.table, column_key(constraint), constraint.rule,
                                  str(constraint.kind), layers_of(constraint))
        if _violable_here(table_model, connection, constraint):
            exercised.append(constraint)
    failures: list[str] = []
    blocks: list[str] = []
    for constraint in exercised:
        strategy = violations(table_model, connection=connection, constraint=constraint)

        @given(violation=strategy)
        def refused(violation: Violation) -> None:
            with schemafuzz_db.example():
                # The table itself may be blocked by this very rule (a valid row of the models
                # refused by it); only its parents' blocks stop this search.
                insert_setup(schemafuzz_verdict, schemafuzz_db, table_model, violation,
                             own_table_blocks=False)
                _refused_with_its_sqlstate(schemafuzz_db, violation, schemafuzz_ledger,
                                           schemafuzz_verdict)

        try:
            refused()
        except pytest.fail.Exception as failure:
            failures.append(str(failure))
        except pytest.skip.Exception as blocked:
            blocks.append(str(blocked))
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
    if blocks and len(blocks) == len(exercised):
        pytest.skip(blocks[0])


@given(data=st.data())
def test_unvalidated_table_instances_are_refused_on_flush(
        schemafuzz_db: Sandbox, db_enforced: Violable, schemafuzz_verdict: Verdict,
        data: st.DataObject) -> None:
    """SQLModel ``table=True`` models skip validation on construction: an invalid instance
    flushed through the ORM must be refused, by the database or by SQLAlchemy's column types,
    for every rule the database is meant to enforce."""
    violable = db_enforced
    constraint = violable.constraint
    schemafuzz_verdict.check_cause(_stored_violation(constraint))
    # Over-long values whose excess is only spaces are truncated by varchar(n), not refused:
    # strategies marks them model-only (sqlstate None); they are not for this probe.
    violation = data.draw(live_violations(schemafuzz_db, violable.model, constraint,
                                          database_refuses=True), label="violation")
    insert_setup(schemafuzz_verdict, schemafuzz_db, violable.model, violation)
    mapper = sa.inspect(violable.model)
    by_column = {attr.columns[0].name: attr.key for attr in mapper.column_attrs}
    instance = violable.model(**{by_column[k]: v for k, v in violation.record.items()})
    # The session flushes inside a savepoint of its own (create_savepoint), which close()
    # rolls back: the flush leaves nothing behind for the example's savepoint to undo.
    session = schemafuzz_db.session()
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
    if refused_by is None:
        _fail(schemafuzz_verdict, violation_finding(
            violation, f"{violable.model.__name__}(...) built without validation and flushed "
            f"through the ORM was stored although it breaks {constraint.rule} "
            f"(expected SQLSTATE {violation.sqlstate})"))
