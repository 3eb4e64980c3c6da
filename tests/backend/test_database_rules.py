"""Raw SQL against a migrated database: every rule of design §2 is enforced by PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ._support import sqlstate

STRING_TOO_LONG, NOT_NULL, FK, UNIQUE, CHECK, BAD_TEXT = (
    "22001",
    "23502",
    "23503",
    "23505",
    "23514",
    "22P02",
)


def _user(conn: sa.Connection, email: str | None = None) -> uuid.UUID:
    email = email or f"{uuid.uuid4()}@example.com"
    return conn.execute(
        sa.text("INSERT INTO users (email) VALUES (:e) RETURNING id"), {"e": email}
    ).scalar_one()


def _task(conn: sa.Connection, user_id: uuid.UUID, title: str = "t") -> uuid.UUID:
    return conn.execute(
        sa.text("INSERT INTO tasks (user_id, title) VALUES (:u, :t) RETURNING id"),
        {"u": user_id, "t": title},
    ).scalar_one()


def _conversation(conn: sa.Connection, user_id: uuid.UUID) -> uuid.UUID:
    return conn.execute(
        sa.text("INSERT INTO conversations (user_id) VALUES (:u) RETURNING id"), {"u": user_id}
    ).scalar_one()


def _message(conn: sa.Connection, conversation_id: uuid.UUID, role: str = "user") -> uuid.UUID:
    return conn.execute(
        sa.text(
            "INSERT INTO messages (conversation_id, role, content) VALUES (:c, :r, 'hi') "
            "RETURNING id"
        ),
        {"c": conversation_id, "r": role},
    ).scalar_one()


def _count(conn: sa.Connection, table: str) -> int:
    return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


INSERT_TASK = "INSERT INTO tasks (user_id, title, description) VALUES (:u, :t, :d)"


@pytest.mark.parametrize(
    ("title", "description", "expected"),
    [
        ("x" * 200, None, None),
        ("x" * 201, None, STRING_TOO_LONG),
        ("é" * 200, "d" * 1000, None),  # lengths count characters, not bytes
        ("t", "d" * 1001, STRING_TOO_LONG),
        ("", None, CHECK),
        ("   ", None, CHECK),
        ("\t\n\u3000\u2028", None, CHECK),  # Unicode whitespace is blank, as for str.strip()
        ("\u200b", None, None),  # zero-width space is not whitespace for Python either
        (None, None, NOT_NULL),
        ("t", "", None),
        ("t", "   ", None),  # the description may be blank
    ],
)
def test_task_text_rules(
    conn: sa.Connection, title: str | None, description: str | None, expected: str | None
) -> None:
    user_id = _user(conn)
    params = {"u": user_id, "t": title, "d": description}
    assert sqlstate(conn, INSERT_TASK, params) == expected


def test_task_for_missing_user_is_rejected(conn: sa.Connection) -> None:
    assert sqlstate(conn, INSERT_TASK, {"u": uuid.uuid4(), "t": "t", "d": None}) == FK


def test_task_defaults(conn: sa.Connection) -> None:
    task_id = _task(conn, _user(conn))
    row = conn.execute(
        sa.text("SELECT completed, created_at, updated_at FROM tasks WHERE id = :i"),
        {"i": task_id},
    ).one()
    assert row.completed is False
    assert row.created_at == row.updated_at
    assert row.created_at.utcoffset() == timedelta(0)  # the session runs in UTC


@pytest.mark.parametrize(
    ("email", "expected"),
    [("a", None), ("x" * 255, None), ("x" * 256, STRING_TOO_LONG), ("", CHECK), (None, NOT_NULL)],
)
def test_user_email_rules(conn: sa.Connection, email: str | None, expected: str | None) -> None:
    assert sqlstate(conn, "INSERT INTO users (email) VALUES (:e)", {"e": email}) == expected


def test_user_email_is_unique(conn: sa.Connection) -> None:
    _user(conn, "same@example.com")
    assert sqlstate(conn, "INSERT INTO users (email) VALUES ('same@example.com')") == UNIQUE


INSERT_MESSAGE = "INSERT INTO messages (conversation_id, role, content) VALUES (:c, :r, :t)"


@pytest.mark.parametrize(
    ("role", "content", "expected"),
    [
        ("user", "hi", None),
        ("assistant", "x" * 5000, None),
        ("USER", "hi", BAD_TEXT),  # stored by value: the member *name* is not a label
        ("ASSISTANT", "hi", BAD_TEXT),
        ("moderator", "hi", BAD_TEXT),
        ("user", "x" * 5001, STRING_TOO_LONG),
        ("user", "", CHECK),
        ("user", " \u00a0 ", CHECK),
        (None, "hi", NOT_NULL),
    ],
)
def test_message_rules(
    conn: sa.Connection, role: str | None, content: str, expected: str | None
) -> None:
    conversation_id = _conversation(conn, _user(conn))
    params = {"c": conversation_id, "r": role, "t": content}
    assert sqlstate(conn, INSERT_MESSAGE, params) == expected


def test_message_role_enum_labels(conn: sa.Connection) -> None:
    labels = (
        conn.execute(sa.text("SELECT unnest(enum_range(NULL::message_role))::text")).scalars().all()
    )
    assert labels == ["user", "assistant"]


def test_bad_uuid_text_is_rejected(conn: sa.Connection) -> None:
    sql = "INSERT INTO conversations (user_id) VALUES (CAST(:u AS uuid))"
    assert sqlstate(conn, sql, {"u": "not-a-uuid"}) == BAD_TEXT


def test_deleting_a_conversation_deletes_its_messages(conn: sa.Connection) -> None:
    user_id = _user(conn)
    kept, dropped = _conversation(conn, user_id), _conversation(conn, user_id)
    _message(conn, kept)
    _message(conn, dropped, "assistant")
    _message(conn, dropped)
    conn.execute(sa.text("DELETE FROM conversations WHERE id = :i"), {"i": dropped})
    remaining = conn.execute(sa.text("SELECT conversation_id FROM messages")).scalars().all()
    assert remaining == [kept]


def test_deleting_a_user_deletes_everything_it_owns(conn: sa.Connection) -> None:
    doomed, other = _user(conn), _user(conn)
    for owner in (doomed, other):
        _task(conn, owner)
        _message(conn, _conversation(conn, owner))
    conn.execute(sa.text("DELETE FROM users WHERE id = :i"), {"i": doomed})
    for table, column in (("tasks", "user_id"), ("conversations", "user_id")):
        owners = conn.execute(sa.text(f"SELECT {column} FROM {table}")).scalars().all()
        assert owners == [other]
    assert _count(conn, "messages") == 1


def _stamps(conn: sa.Connection, table: str, row_id: uuid.UUID) -> tuple[datetime, datetime]:
    row = conn.execute(
        sa.text(f"SELECT created_at, updated_at FROM {table} WHERE id = :i"), {"i": row_id}
    ).one()
    return row.created_at, row.updated_at


@pytest.mark.parametrize("table", ["users", "tasks", "conversations"])
def test_raw_update_advances_updated_at_and_keeps_created_at(
    conn: sa.Connection, table: str
) -> None:
    user_id = _user(conn)
    row_id = {
        "users": lambda: user_id,
        "tasks": lambda: _task(conn, user_id),
        "conversations": lambda: _conversation(conn, user_id),
    }[table]()
    created, updated = _stamps(conn, table, row_id)
    # the client tries to rewrite both timestamps; the database decides
    forged = datetime(2000, 1, 1, tzinfo=UTC)
    conn.execute(
        sa.text(f"UPDATE {table} SET created_at = :f, updated_at = :f WHERE id = :i"),
        {"f": forged, "i": row_id},
    )
    created_2, updated_2 = _stamps(conn, table, row_id)
    assert created_2 == created
    assert updated_2 > updated
    conn.execute(
        sa.text(f"UPDATE {table} SET updated_at = updated_at WHERE id = :i"), {"i": row_id}
    )
    assert _stamps(conn, table, row_id)[1] > updated_2  # strictly, even within one transaction


def test_raw_update_of_task_title_advances_updated_at(conn: sa.Connection) -> None:
    task_id = _task(conn, _user(conn))
    created, updated = _stamps(conn, "tasks", task_id)
    conn.execute(sa.text("UPDATE tasks SET title = 'renamed' WHERE id = :i"), {"i": task_id})
    assert _stamps(conn, "tasks", task_id)[0] == created
    assert _stamps(conn, "tasks", task_id)[1] > updated


def test_update_moves_forward_even_from_a_future_updated_at(conn: sa.Connection) -> None:
    future = datetime(2999, 1, 1, tzinfo=UTC)
    task_id = conn.execute(
        sa.text(
            "INSERT INTO tasks (user_id, title, created_at, updated_at) "
            "VALUES (:u, 't', :f, :f) RETURNING id"
        ),
        {"u": _user(conn), "f": future},
    ).scalar_one()
    conn.execute(sa.text("UPDATE tasks SET completed = true WHERE id = :i"), {"i": task_id})
    assert _stamps(conn, "tasks", task_id) == (future, future + timedelta(microseconds=1))


def test_message_created_at_never_changes(conn: sa.Connection) -> None:
    message_id = _message(conn, _conversation(conn, _user(conn)))
    before = conn.execute(
        sa.text("SELECT created_at FROM messages WHERE id = :i"), {"i": message_id}
    ).scalar_one()
    conn.execute(
        sa.text("UPDATE messages SET created_at = '2000-01-01Z', content = 'edited' WHERE id = :i"),
        {"i": message_id},
    )
    after = conn.execute(
        sa.text("SELECT created_at FROM messages WHERE id = :i"), {"i": message_id}
    ).scalar_one()
    assert after == before


@pytest.mark.parametrize("table", ["users", "tasks", "conversations"])
def test_insert_with_only_one_timestamp_keeps_them_ordered(conn: sa.Connection, table: str) -> None:
    """A client that supplies just one timestamp gets a consistent pair (the other defaulted)."""
    user_id = _user(conn)
    columns = {"users": "email", "tasks": "user_id, title", "conversations": "user_id"}[table]
    values = {"users": "'x' || gen_random_uuid()", "tasks": ":u, 't'", "conversations": ":u"}[table]
    future = datetime(2999, 1, 1, tzinfo=UTC)
    past = datetime(2001, 1, 1, tzinfo=UTC)
    row_id = conn.execute(
        sa.text(f"INSERT INTO {table} ({columns}, created_at) VALUES ({values}, :f) RETURNING id"),
        {"u": user_id, "f": future},
    ).scalar_one()
    assert _stamps(conn, table, row_id) == (future, future)
    row_id = conn.execute(
        sa.text(f"INSERT INTO {table} ({columns}, updated_at) VALUES ({values}, :p) RETURNING id"),
        {"u": user_id, "p": past},
    ).scalar_one()
    assert _stamps(conn, table, row_id) == (past, past)
    now = conn.execute(sa.text("SELECT now()")).scalar_one()
    row_id = conn.execute(
        sa.text(f"INSERT INTO {table} ({columns}, created_at) VALUES ({values}, :p) RETURNING id"),
        {"u": user_id, "p": past},
    ).scalar_one()
    assert _stamps(conn, table, row_id) == (past, now)  # nothing to align


def test_explicit_inverted_timestamps_are_rejected(conn: sa.Connection) -> None:
    sql = (
        "INSERT INTO tasks (user_id, title, created_at, updated_at) "
        "VALUES (:u, 't', '2020-01-02Z', '2020-01-01Z')"
    )
    assert sqlstate(conn, sql, {"u": _user(conn)}) == CHECK


def test_explicit_null_timestamp_is_rejected(conn: sa.Connection) -> None:
    sql = "INSERT INTO tasks (user_id, title, created_at) VALUES (:u, 't', NULL)"
    assert sqlstate(conn, sql, {"u": _user(conn)}) == NOT_NULL


def test_generated_ids_are_uuids(conn: sa.Connection) -> None:
    assert isinstance(_user(conn), uuid.UUID)
