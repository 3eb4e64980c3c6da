"""`table_graphs` and `boundary_graph`: rows for tables known only from their ``Table`` (as
the data-preservation property reflects them at each revision)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from hypothesis import given, settings

from schemafuzz.strategies import UnsupportedColumnError, boundary_graph, table_graphs

from .conftest import recorded_rejections


def _tables() -> list[sa.Table]:
    md = sa.MetaData()
    users = sa.Table("users", md, sa.Column("id", sa.Uuid, primary_key=True),
                     sa.Column("email", sa.String(255), nullable=False, unique=True))
    tasks = sa.Table("tasks", md, sa.Column("id", sa.Uuid, primary_key=True),
                     sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False),
                     sa.Column("title", sa.String(200), nullable=False),
                     sa.Column("body", sa.Text),
                     # As reflection gives a CHECK back: pg_get_constraintdef's text.
                     sa.CheckConstraint("(char_length((body)::text) <= 5000)"),
                     sa.CheckConstraint("(char_length((body)::text) >= 2)"))
    return [users, tasks]


def test_boundary_graph_has_max_length_astral_strings_and_many_children() -> None:
    rows = boundary_graph(_tables())
    users = [row for table, row in rows if table.name == "users"]
    tasks = [row for table, row in rows if table.name == "tasks"]
    assert users[0]["email"] == "\U0001d11e" * 255
    assert len({u["email"] for u in users}) == len(users) == 3
    assert len(tasks) == 25 and {t["user_id"] for t in tasks} == {users[0]["id"]}
    # The reflected CHECKs' bounds: the longest body first, the shortest third.
    assert len(tasks[0]["body"]) == 5000 and tasks[2]["body"] == "xx"
    assert [table.name for table, _ in rows] == ["users"] * 3 + ["tasks"] * 25


def test_boundary_graph_gives_one_child_per_parent_on_a_unique_fk() -> None:
    md = sa.MetaData()
    users = sa.Table("users", md, sa.Column("id", sa.Integer, primary_key=True))
    profiles = sa.Table("profiles", md, sa.Column("id", sa.Uuid, primary_key=True),
                        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"),
                                  nullable=False, unique=True))
    rows = boundary_graph([users, profiles])
    assert [row for table, row in rows if table is users] == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert [row["user_id"] for table, row in rows if table is profiles] == [1, 2, 3]


@settings(max_examples=50, deadline=None)
@given(table_graphs(_tables()))
def test_table_graphs_are_fk_consistent_unique_and_keep_the_checks(
        rows: list[tuple[sa.Table, dict[str, object]]]) -> None:
    users = [row for table, row in rows if table.name == "users"]
    assert users, "a referenced table always gets a row"
    assert len({u["email"] for u in users}) == len({u["id"] for u in users}) == len(users)
    for table, row in rows:
        if table.name == "tasks":
            assert row["user_id"] in {u["id"] for u in users}
            title, body = row["title"], row.get("body")
            assert isinstance(title, str) and len(title) <= 200 and "\x00" not in title
            assert body is None or (isinstance(body, str) and 2 <= len(body) <= 5000)


def test_a_not_null_column_of_an_unknown_type_is_named() -> None:
    table = sa.Table("shapes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("outline", sa.types.NullType(), nullable=False))
    with pytest.raises(UnsupportedColumnError, match=r"shapes\.outline"):
        boundary_graph([table])


def test_a_child_that_must_have_rows_gets_its_parents_without_a_rejection() -> None:
    """``min_rows={"tasks": 1}`` alone: users, which tasks.user_id (NOT NULL) references,
    gets a row in every graph; drawing none there could only reject the example (the generic
    state machine lost ~4 in 5 of its test cases that way)."""
    @settings(max_examples=50, deadline=None)
    @given(table_graphs(_tables(), min_rows={"users": 0, "tasks": 1}))
    def check(rows: list[tuple[sa.Table, dict[str, object]]]) -> None:
        assert {table.name for table, _ in rows} >= {"users", "tasks"}

    with recorded_rejections() as rejected:
        check()
    assert rejected == []
