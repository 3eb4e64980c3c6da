"""Running generated rows against the live database and turning outcomes into findings.

Shared by the constraint, bypass, foreign-key and stateful properties: insert a row and say what
PostgreSQL did with it, in a savepoint so the sandbox stays usable.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from schemafuzz.findings import NO_VALUE, AppCodeError, Finding, describe_value, same_stored_value
from schemafuzz.harness import Sandbox, diagnostics_of, sqlstate_of
from schemafuzz.report import Ledger
from schemafuzz.strategies import Constraint, Kind, Layer, Violation, constraints
from schemafuzz.targets import database_generated_key

if TYPE_CHECKING:
    from schemafuzz.fixtures import Verdict

__all__ = [
    "VALUE_KINDS",
    "AppCodeError",
    "Outcome",
    "Tallies",
    "Tally",
    "attempt",
    "attempt_all",
    "column_named_by",
    "database_only_rule",
    "declare_catalogue",
    "insert_instance",
    "insert_statement",
    "layers_of",
    "model_of_table",
    "record_of",
    "refused_valid_row",
    "stored_row_mismatches",
]

# Rules about a single value, which the model can check without the database: when the
# database refuses such a value, the model should refuse it too.
VALUE_KINDS = frozenset({Kind.MAX_LENGTH, Kind.MIN_LENGTH, Kind.PATTERN,
                         Kind.RANGE, Kind.DIGITS, Kind.ENUM, Kind.TYPE, Kind.CHECK,
                         Kind.NOT_NULL})


def layers_of(constraint: Constraint) -> list[str]:
    """The constraint's enforcing layers as plain strings."""
    return sorted(str(layer) for layer in constraint.layers)


def column_key(constraint: Constraint) -> str:
    """The ledger's column field for a constraint (comma-joined for multi-column ones)."""
    return ",".join(constraint.columns)


def declare_catalogue(ledger: Ledger, models: Iterable[type[Any]]) -> dict[str, list[Constraint]]:
    """Declare every constraint of ``models`` in the ledger; return them by table."""
    by_table: dict[str, list[Constraint]] = {}
    for model in models:
        for constraint in constraints(model):
            by_table.setdefault(constraint.table, []).append(constraint)
            ledger.declare(constraint.table, column_key(constraint), constraint.rule,
                           str(constraint.kind), layers_of(constraint))
            if constraint.kind == Kind.UNSUPPORTED and not constraint.sql:  # a column type
                ledger.finding(constraint.table, column_key(constraint), constraint.rule,
                               f"{constraint.note}: valid rows leave the column to its default "
                               "or NULL, and no rule of it is tested; register a strategy "
                               "(schemafuzz.strategies.register_field_strategy) to test it",
                               "unsupported")
    return by_table


def record_of(instance: Any) -> dict[str, Any]:
    """The column values of a model instance keyed by column name; a None in a column that
    the database fills (server default, serial or identity key) is left out, so the database
    fills it."""
    mapper = sa.inspect(type(instance))
    record: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        value = getattr(instance, attr.key, None)
        if value is None and (column.server_default is not None
                              or database_generated_key(column.table, column.name)):
            continue
        record[column.name] = value
    return record


@dataclass(frozen=True)
class Outcome:
    """What PostgreSQL did with a statement: stored it (sqlstate None) or refused it."""

    sqlstate: str | None
    message: str = ""
    constraint_name: str | None = None
    column_name: str | None = None
    row: sa.Row[Any] | None = None

    @property
    def stored(self) -> bool:
        return self.sqlstate is None


def _app_code_error(statement: sa.Executable, error: Exception) -> AppCodeError:
    """Name the column whose value the app's code refused: each bound value of an INSERT is
    passed through its column type's bind processor again until one raises."""
    cause = error.orig if isinstance(error, sa.exc.StatementError) and error.orig else error
    message = f"{type(cause).__name__}: {cause}".split("\n")[0][:300]
    table = getattr(statement, "table", None)
    if not isinstance(table, sa.Table) or not isinstance(statement, sa.sql.ClauseElement):
        return AppCodeError("(a statement)", "*", message)
    dialect = postgresql.dialect()
    values = dict(statement.compile(dialect=dialect).params)
    for column in table.columns:  # values the statement leaves to a Python-side default
        default = column.default
        if column.name not in values and default is not None and default.is_callable:
            with contextlib.suppress(Exception):
                values[column.name] = default.arg(None)
    for name, value in values.items():
        column = table.c.get(name)
        processor = column.type.bind_processor(dialect) if column is not None else None
        if processor is None:
            continue
        try:
            processor(value)
        except Exception:  # the app's own error, whatever it is: this is the column
            return AppCodeError(str(table.name), name, message)
    for name, value in values.items():  # the driver cannot send a value of this type
        if value is not None and f"'{type(value).__name__}'" in message:
            return AppCodeError(str(table.name), name, message)
    return AppCodeError(str(table.name), ",".join(values) or "*", message)


def attempt(sandbox: Sandbox, statement: sa.Executable, *, ends_example: bool = False
            ) -> Outcome:
    """Execute ``statement`` in its own savepoint and return the outcome; a refused statement
    leaves no trace. With ``ends_example`` the statement is the example's last (nothing runs
    SQL after it before :meth:`Sandbox.example` ends): it runs without a savepoint of its own,
    two round trips fewer in every example, the example's savepoint undoing a refusal.

    Raises AppCodeError when the app's code or SQLAlchemy refuses a value before it reaches
    the database (the savepoint rolled back), and DBAPIError only for errors without a
    SQLSTATE (lost connection)."""
    savepoint = None if ends_example else sandbox.connection.begin_nested()
    try:
        result = sandbox.connection.execute(statement)
        row = result.first() if result.returns_rows else None
    except _REFUSALS as error:
        if savepoint is None and isinstance(error, DBAPIError):
            sandbox.end_example_with_refusal(statement)
        return _refused(savepoint, error, statement)
    if savepoint is not None:
        savepoint.commit()
    return Outcome(None, row=row)


def attempt_all(sandbox: Sandbox, statements: Iterable[sa.Executable], *,
                start_example: bool = False) -> tuple[int, Outcome] | None:
    """Execute ``statements`` in order inside one savepoint: two round trips fewer for each
    statement after the first than :func:`attempt` on each. With ``start_example`` they are
    the example's first writes and run without a savepoint: a refusal rewinds the example
    (:meth:`Sandbox.rewind`). Returns None when PostgreSQL stored them all, else the index
    of the first one it refused and its outcome, every statement rolled back. Raises as
    :func:`attempt` does."""
    statements = list(statements)
    if not statements:
        return None
    savepoint = None if start_example else sandbox.connection.begin_nested()
    for index, statement in enumerate(statements):
        try:
            sandbox.connection.execute(statement)
        except _REFUSALS as error:
            outcome = _refused(savepoint, error, statement)
            if savepoint is None:
                sandbox.rewind()
            return index, outcome
    if savepoint is not None:
        savepoint.commit()
    return None


# What executing a statement raises when the app's code, SQLAlchemy or PostgreSQL refuses it.
_REFUSALS = (sa.exc.StatementError, ValueError, TypeError, LookupError)


def _refused(savepoint: sa.NestedTransaction | None, error: Exception,
             statement: sa.Executable) -> Outcome:
    """The outcome of a statement PostgreSQL refused (its savepoint, if any, rolled back).
    An error raised before the value reached PostgreSQL (the app's code or SQLAlchemy), or
    one with no SQLSTATE on a live connection (the driver refusing to bind a value:
    psycopg2's "can't adapt type 'HttpUrl'"), raises AppCodeError. A lost connection
    re-raises."""
    if savepoint is not None:
        savepoint.rollback()
    if not isinstance(error, DBAPIError):
        raise _app_code_error(statement, error) from error
    state = sqlstate_of(error)
    if state is None and not error.connection_invalidated:
        raise _app_code_error(statement, error) from error
    if state is None:
        raise error
    return Outcome(state, " ".join(str(error.orig).split())[:300], *diagnostics_of(error))


def insert_statement(table: sa.Table, record: dict[str, Any]) -> sa.Insert:
    """An INSERT of ``record`` into ``table``. Plain strings bound for enum columns are sent
    untyped, so the database (not SQLAlchemy's Enum type, which would refuse them client-side)
    judges labels such as ``'USER'`` or ``'moderator'``, as it would for any other client; a
    None for a JSON column is SQL NULL, as other clients send it."""
    values: dict[str, Any] = {}
    for name, value in record.items():
        column = table.c[name]
        if (isinstance(column.type, sa.Enum) and isinstance(value, str)
                and not isinstance(value, enum.Enum)):
            values[name] = sa.bindparam(f"untyped_{name}", value, type_=sa.String())
        elif value is None and isinstance(column.type, sa.JSON):
            values[name] = sa.null()  # SQL NULL: SQLAlchemy's JSON would send the JSON 'null'
        else:
            values[name] = value
    return table.insert().values(values)


def insert_instance(sandbox: Sandbox, instance: Any) -> tuple[dict[str, Any], Outcome]:
    """Insert a model instance with Core (RETURNING every column); return the record sent and
    the outcome, whose ``row`` is what the database stored."""
    table: sa.Table = type(instance).__table__
    record = record_of(instance)
    statement = table.insert().values(record).returning(*table.c)
    return record, attempt(sandbox, statement)


def column_named_by(table: sa.Table, outcome: Outcome, sent: Mapping[str, Any]) -> str:
    """The column an error is about: PostgreSQL's diagnostics name it for most errors; for a
    bad enum label only the type is named, so find the column of that type; a constraint
    names its columns; else the columns sent, joined."""
    if outcome.column_name:
        return outcome.column_name
    for column in table.columns:
        name = getattr(column.type, "name", None)
        if isinstance(column.type, sa.Enum) and name and f"enum {name}" in outcome.message:
            return str(column.name)
    for constraint in table.constraints:
        if outcome.constraint_name and constraint.name == outcome.constraint_name:
            return ",".join(c.name for c in getattr(constraint, "columns", ())) or "*"
    return ",".join(sent) or "*"


def refused_valid_row(verdict: Verdict, sandbox: Sandbox, model: type[Any], outcome: Outcome,
                      sent: dict[str, Any], what: str) -> NoReturn:
    """A row of ``model`` that the model accepts and PostgreSQL refused: a root cause (every
    test that needs a row of its table would meet it), reported once, blocking the tests on
    the table. A constraint only the schema under test declares (a CHECK a migration added) is
    named with its own columns and the database as its one layer, as the database-only
    property names it."""
    table: sa.Table = model.__table__
    column = column_named_by(table, outcome, sent)
    rule = outcome.constraint_name or f"SQLSTATE {outcome.sqlstate}"
    layers = ["model"]
    database_only = database_only_rule(sandbox, model, outcome.constraint_name)
    if database_only is not None:
        column, layers = ",".join(database_only.columns), [str(Layer.DATABASE)]
        # Declared as the constraint it is (a CHECK), not as a bare finding, whichever
        # property meets it first.
        verdict.ledger.declare(table.name, column, rule, str(database_only.kind), layers)
    finding = Finding(table.name, column, rule, layers,
                      f"{what} with SQLSTATE {outcome.sqlstate} ({outcome.message})",
                      sent.get(column, NO_VALUE))
    verdict.root_cause(f"refused valid row: {table.name}.{column}: {rule}", finding,
                       blocks=[table.name])


def database_only_rule(sandbox: Sandbox, model: type[Any], name: str | None
                        ) -> Constraint | None:
    """The constraint called ``name`` when only the live catalogue of the schema under test
    declares it (neither the model nor its metadata), else None."""
    if name is None:
        return None
    named = [c for c in constraints(model, sandbox.connection) if c.rule == name]
    if named and all(c.layers == {Layer.DATABASE} for c in named):
        return named[0]
    return None


def model_of_table(model: type[Any], table: sa.Table) -> type[Any]:
    """The mapped class of ``table`` in ``model``'s registry; raises LookupError if none."""
    for mapper in sa.inspect(model).registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    raise LookupError(f"{table.name}: no mapped model in the registry of {model.__name__}")


def stored_row_mismatches(table: sa.Table, sent: dict[str, Any], stored: sa.Row[Any]
                          ) -> list[tuple[str, Any, Any]]:
    """Columns whose stored value differs from the value sent: (column, sent, stored)."""
    mapping = stored._mapping

    def read(name: str) -> Any:  # by column, or by label (a column read as another type)
        column = table.c[name]
        return mapping[column] if column in mapping else mapping[name]

    return [(name, value, read(name)) for name, value in sent.items()
            if not same_stored_value(value, read(name))]


def violation_finding(violation: Violation, what: str) -> Finding:
    """A finding about a generated violation, naming its table, column, rule and layers."""
    constraint = violation.constraint
    layers = layers_of(constraint) if constraint is not None else []
    value: Any = {k: violation.record.get(k) for k in violation.column.split(",")
                  if k in violation.record} or violation.record
    if isinstance(value, dict) and len(value) == 1:
        value = next(iter(value.values()))
    return Finding(violation.table, violation.column, violation.rule, layers, what, value)


def short(value: Any, limit: int = 80) -> str:
    """``describe_value`` re-exported for property modules."""
    return describe_value(value, limit)


class Tally:
    """Counts what a property exercised, for one success-criterion measurement per test
    (recorded by the ``tallies`` fixture when the test ends, pass or fail)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.ok = True

    def add(self, what: str, n: int = 1) -> None:
        """Add ``n`` to the count called ``what``."""
        self.counts[what] = self.counts.get(what, 0) + n

    def figure(self) -> str:
        """The counts as one line, e.g. ``dangling references refused: 30/30``."""
        return ", ".join(f"{name}: {n}" for name, n in self.counts.items()) or "nothing exercised"


class Tallies(dict[str, Tally]):
    """Tallies by success criterion, created on first use: ``tallies["SC-008"].add(...)``."""

    def __missing__(self, criterion: str) -> Tally:
        self[criterion] = Tally()
        return self[criterion]
