"""A stateful-style workload for ``bench/throughput.py``: each Hypothesis example is a sequence
of inserts, updates and deletes over the reference backend's tables, checked after every step
against a Python model of what should be stored (row counts, ON DELETE CASCADE included).

A pytest test module run by the benchmark's child (not by ``pytest properties``): it takes the
plugin's ``schemafuzz_db`` fixture, so every example runs in its own SAVEPOINT, like every
property, and the profile's settings (``profile_settings()``), with 200 examples. It
is a ``@given`` test drawing one step at a time rather than a ``RuleBasedStateMachine`` because
the plugin's per-example savepoint (and the benchmark's example counter) wrap ``@given`` tests.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from schemafuzz import profile_settings
from schemafuzz.harness import Sandbox
from schemafuzz.outcomes import attempt, insert_statement, record_of
from schemafuzz.strategies import valid

__all__ = ["test_stateful_workload"]

_CHILDREN = {"users": ("tasks", "conversations"), "conversations": ("messages",)}


def _models() -> dict[str, type[Any]]:
    from backend.app import models

    return {m.__tablename__: m for m in (models.User, models.Task, models.Conversation,
                                         models.Message)}


class _State:
    """The rows that should exist: table -> {id: parent id (None for users)}."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[uuid.UUID, uuid.UUID | None]] = {
            "users": {}, "tasks": {}, "conversations": {}, "messages": {}}

    def delete(self, table: str, key: uuid.UUID) -> None:
        self.rows[table].pop(key, None)
        for child in _CHILDREN.get(table, ()):
            for child_key in [k for k, parent in self.rows[child].items() if parent == key]:
                self.delete(child, child_key)


_PARENT = {"tasks": ("users", "user_id"), "conversations": ("users", "user_id"),
           "messages": ("conversations", "conversation_id")}


def _insert(db: Sandbox, state: _State, model: type[Any], data: st.DataObject) -> None:
    table: sa.Table = model.__table__
    parents: dict[str | tuple[str, ...], list[Any]] = {}
    if table.name in _PARENT:
        parent_table, column = _PARENT[table.name]
        parents[column] = list(state.rows[parent_table])  # insertion order: ids are random
    instance = data.draw(valid(model, parents=parents or None), label=f"{table.name} row")
    record = record_of(instance)
    outcome = attempt(db, insert_statement(table, record).returning(table.c.id))
    if outcome.stored:  # a refusal (say, a duplicate email) leaves the state as it was
        assert outcome.row is not None
        parent = record[_PARENT[table.name][1]] if table.name in _PARENT else None
        state.rows[table.name][outcome.row.id] = parent
    else:
        assert outcome.sqlstate == "23505", f"{table.name}: refused valid row: {outcome.message}"


# 200 examples rather than the profile's 30: at 30 the figure measured Hypothesis' start-up
# (its first examples, its database) more than the steady rate the benchmark is about.
@settings(profile_settings(), max_examples=200)
@given(data=st.data())
def test_stateful_workload(schemafuzz_db: Sandbox, data: st.DataObject) -> None:
    db = schemafuzz_db
    models = _models()
    state = _State()
    steps = data.draw(st.integers(1, profile_settings().stateful_step_count), label="steps")
    for _ in range(steps):
        ops = ["insert users"]
        if state.rows["users"]:
            ops += ["insert tasks", "insert conversations", "delete users"]
        if state.rows["tasks"]:
            ops += ["update tasks", "delete tasks"]
        if state.rows["conversations"]:
            ops += ["insert messages", "delete conversations"]
        op, table = data.draw(st.sampled_from(ops), label="step").split()
        if op == "insert":
            _insert(db, state, models[table], data)
        else:
            key = data.draw(st.sampled_from(list(state.rows[table])), label=f"{table} id")
            if op == "update":
                db.execute("UPDATE tasks SET completed = NOT completed, title = :t "
                           "WHERE id = :id", {"t": f"step {steps}", "id": key})
            else:
                db.execute(f"DELETE FROM {table} WHERE id = :id", {"id": key})
                state.delete(table, key)
        counts = db.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tasks), "
            "(SELECT count(*) FROM conversations), (SELECT count(*) FROM messages)").one()
        expected = tuple(len(state.rows[t]) for t in ("users", "tasks", "conversations",
                                                      "messages"))
        assert tuple(counts) == expected, f"after {op} {table}: stored {counts}, " \
            f"expected {expected}"
