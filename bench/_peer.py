"""The hand-written peer of the suite's properties, for ``bench/throughput.py``: what an expert
writes by hand with Hypothesis, SQLAlchemy Core and a SAVEPOINT per example, for the reference
backend alone.

* constraints: per table, valid rows drawn with ``st.fixed_dictionaries`` shaped by the same
  limits (lengths, not blank, the enum), validated once with ``Model.model_validate``, inserted
  with their parents and read back equal; per rule, one violating value, which the model must
  refuse and PostgreSQL must refuse with its SQLSTATE; per rule, an unvalidated ``table=True``
  instance breaking it, which a flush must refuse.
* stateful: the workload of ``bench/_workload.py`` (inserts, updates and deletes over the four
  tables, row counts checked after every step), its rows drawn the same way.

A plain pytest module, run by the benchmark's child without the schemafuzz plugin, against the
database ``BENCH_PEER_URL`` names (migrated to head). Nothing here reports coverage, names
layers or keeps the exactly-one-rule guarantee beyond these hand-picked values: that is what the
suite adds, and what the peer ratio prices.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from backend.app.models import Conversation, Message, MessageRole, Task, User

__all__: list[str] = []

PEER = settings(max_examples=30, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])
STATEFUL = settings(PEER, max_examples=200)  # as bench/_workload.py

_CHARS = st.characters(codec="utf-8", exclude_characters="\x00")


def _text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    return st.text(_CHARS, min_size=min_size, max_size=max_size)


def _too_long(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Over-long strings the way an expert draws them: a short drawn run repeated to a drawn
    length (drawing thousands of characters one by one costs Hypothesis ~10 us each)."""
    return st.tuples(st.integers(min_size, max_size), _text(1, 16)).map(
        lambda pair: (pair[1] * (pair[0] // len(pair[1]) + 1))[:pair[0]])


def _not_blank(max_size: int) -> st.SearchStrategy[str]:
    return _text(1, max_size).filter(lambda s: s.strip() != "")


USER = st.fixed_dictionaries({"email": _text(1, 255)})
TASK = st.fixed_dictionaries({"title": _not_blank(200), "completed": st.booleans()},
                             optional={"description": st.none() | _text(0, 1000)})
CONVERSATION: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries({})
MESSAGE = st.fixed_dictionaries({"role": st.sampled_from([r.value for r in MessageRole]),
                                 "content": _not_blank(5000)})
MODELS: dict[str, type[Any]] = {"users": User, "tasks": Task, "conversations": Conversation,
                                "messages": Message}
ROWS = {"users": USER, "tasks": TASK, "conversations": CONVERSATION, "messages": MESSAGE}
# table -> (parent table, FK column)
PARENT = {"tasks": ("users", "user_id"), "conversations": ("users", "user_id"),
          "messages": ("conversations", "conversation_id")}


@pytest.fixture(scope="module")
def connection() -> Iterator[sa.Connection]:
    """One connection to the migrated database, in a transaction rolled back at the end."""
    engine = sa.create_engine(os.environ["BENCH_PEER_URL"])
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()
    engine.dispose()


def _table(name: str) -> sa.Table:
    table: sa.Table = MODELS[name].__table__
    return table


def _parent_keys(conn: sa.Connection, name: str) -> dict[str, uuid.UUID]:
    """The FK column of a ``name`` row set to a parent inserted for it, with its own parents
    ({} for users)."""
    if name not in PARENT:
        return {}
    parent, column = PARENT[name]
    return {column: _insert(conn, parent,
                            {"email": f"{uuid.uuid4()}@peer"} if parent == "users" else {})}


def _insert(conn: sa.Connection, name: str, row: dict[str, Any]) -> uuid.UUID:
    """Insert ``row`` (its parents first, one each); return its id."""
    row = {**row, **_parent_keys(conn, name)}
    key: uuid.UUID = conn.execute(
        sa.insert(_table(name)).values(**row).returning(_table(name).c.id)).scalar_one()
    return key


def _sqlstate(conn: sa.Connection, statement: Any) -> str | None:
    """The SQLSTATE PostgreSQL refuses ``statement`` with, None when it is stored."""
    savepoint = conn.begin_nested()
    try:
        conn.execute(statement)
    except DBAPIError as error:
        savepoint.rollback()
        return getattr(error.orig, "pgcode", None)
    savepoint.rollback()
    return None


@pytest.mark.parametrize("name", list(MODELS))
@PEER
@given(data=st.data())
def test_peer_valid_rows_round_trip(connection: sa.Connection, name: str,
                                    data: st.DataObject) -> None:
    row = data.draw(ROWS[name])
    model = MODELS[name]
    example = connection.begin_nested()
    try:
        parent_ids = _parent_keys(connection, name)
        model.model_validate({**row, **parent_ids})
        table = _table(name)
        key = connection.execute(sa.insert(table).values(**row, **parent_ids)
                                 .returning(table.c.id)).scalar_one()
        stored = connection.execute(sa.select(table).where(table.c.id == key)).one()._mapping
        for column, value in row.items():
            assert stored[column] == value, (name, column, value, stored[column])
        assert stored["created_at"].tzinfo is not None
    finally:
        example.rollback()


# (table, column, violating values, SQLSTATE): one rule each.
VIOLATIONS: list[tuple[str, str, st.SearchStrategy[Any], str]] = [
    ("users", "email", _too_long(256, 300), "22001"),
    ("users", "email", st.just(""), "23514"),
    ("users", "email", st.none(), "23502"),
    ("tasks", "title", _too_long(201, 240), "22001"),
    ("tasks", "title", st.sampled_from(["", " ", "\t\n", "\u3000"]), "23514"),
    ("tasks", "title", st.none(), "23502"),
    ("tasks", "description", _too_long(1001, 1100), "22001"),
    ("tasks", "user_id", st.uuids(), "23503"),
    ("conversations", "user_id", st.uuids(), "23503"),
    ("messages", "content", _too_long(5001, 5050), "22001"),
    ("messages", "content", st.sampled_from(["", " ", "\u2028"]), "23514"),
    ("messages", "role", st.sampled_from(["USER", "admin"]), "22P02"),
    ("messages", "conversation_id", st.uuids(), "23503"),
]


@pytest.mark.parametrize(("name", "column", "values", "sqlstate"), VIOLATIONS,
                         ids=[f"{t}.{c}:{s}" for t, c, _, s in VIOLATIONS])
@PEER
@given(data=st.data())
def test_peer_violations_are_refused(connection: sa.Connection, name: str, column: str,
                                     values: st.SearchStrategy[Any], sqlstate: str,
                                     data: st.DataObject) -> None:
    row, bad = data.draw(ROWS[name]), data.draw(values)
    example = connection.begin_nested()
    try:
        row.update(_parent_keys(connection, name))
        row[column] = bad
        if not column.endswith("_id"):  # the model cannot know a key is missing
            with pytest.raises(ValidationError):
                MODELS[name].model_validate(row)
        statement: Any = sa.insert(_table(name)).values(**row)
        if column == "role":  # SQLAlchemy's Enum refuses an unknown label before sending it
            statement = sa.text("INSERT INTO messages (conversation_id, role, content) "
                                "VALUES (:conversation_id, :role, :content)").bindparams(**row)
        assert _sqlstate(connection, statement) == sqlstate
    finally:
        example.rollback()


# A flush binds through SQLAlchemy's types: an unknown enum label never reaches PostgreSQL.
FLUSHED = [(t, c, v, s) for t, c, v, s in VIOLATIONS if not c.endswith("_id") and c != "role"]


@pytest.mark.parametrize(("name", "column", "values", "sqlstate"), FLUSHED,
                         ids=[f"{t}.{c}:{s}" for t, c, _, s in FLUSHED])
@PEER
@given(data=st.data())
def test_peer_unvalidated_instances_are_refused_on_flush(
        connection: sa.Connection, name: str, column: str, values: st.SearchStrategy[Any],
        sqlstate: str, data: st.DataObject) -> None:
    row, bad = data.draw(ROWS[name]), data.draw(values)
    example = connection.begin_nested()
    try:
        row.update(_parent_keys(connection, name))
        instance = MODELS[name](**row)  # table=True: no validation
        setattr(instance, column, bad)
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            session.add(instance)
            with pytest.raises((DBAPIError, StatementError)) as refused:
                session.flush()
            session.rollback()
        orig = getattr(refused.value, "orig", None)
        assert getattr(orig, "pgcode", sqlstate) == sqlstate
    finally:
        example.rollback()


_CHILDREN = {"users": ("tasks", "conversations"), "conversations": ("messages",)}


@STATEFUL
@given(data=st.data())
def test_peer_stateful_workload(connection: sa.Connection, data: st.DataObject) -> None:
    """bench/_workload.py by hand: the same steps, rows drawn from ROWS."""
    rows: dict[str, dict[uuid.UUID, uuid.UUID | None]] = {t: {} for t in MODELS}

    def forget(table: str, key: uuid.UUID) -> None:
        rows[table].pop(key, None)
        for child in _CHILDREN.get(table, ()):
            for child_key in [k for k, p in rows[child].items() if p == key]:
                forget(child, child_key)

    example = connection.begin_nested()
    try:
        steps = data.draw(st.integers(1, 20), label="steps")
        for _ in range(steps):
            ops = ["insert users"]
            if rows["users"]:
                ops += ["insert tasks", "insert conversations", "delete users"]
            if rows["tasks"]:
                ops += ["update tasks", "delete tasks"]
            if rows["conversations"]:
                ops += ["insert messages", "delete conversations"]
            op, table = data.draw(st.sampled_from(ops), label="step").split()
            if op == "insert":
                row = dict(data.draw(ROWS[table]))
                parent = None
                if table in PARENT:
                    parent_table, column = PARENT[table]
                    parent = data.draw(st.sampled_from(list(rows[parent_table])))
                    row[column] = parent
                MODELS[table].model_validate(row)
                savepoint = connection.begin_nested()
                try:
                    key = connection.execute(sa.insert(_table(table)).values(**row)
                                             .returning(_table(table).c.id)).scalar_one()
                except DBAPIError as error:  # a duplicate email leaves the state as it was
                    savepoint.rollback()
                    assert getattr(error.orig, "pgcode", None) == "23505"
                    continue
                savepoint.commit()
                rows[table][key] = parent
            else:
                key = data.draw(st.sampled_from(list(rows[table])), label=f"{table} id")
                target = _table(table)
                if op == "update":
                    connection.execute(sa.update(target).where(target.c.id == key).values(
                        completed=~target.c.completed, title=f"step {steps}"))
                else:
                    connection.execute(sa.delete(target).where(target.c.id == key))
                    forget(table, key)
            counts = connection.execute(sa.text(
                "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks), "
                "(SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)")).one()
            assert tuple(counts) == tuple(len(rows[t]) for t in MODELS), (op, table)
    finally:
        example.rollback()
