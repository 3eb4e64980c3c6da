"""The ORM path: timestamps, cascades through passive deletes, and model/database agreement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlmodel import Session, select

from backend.app.models import Conversation, Message, MessageRole, Task, User


@pytest.fixture
def session(conn: sa.Connection) -> Iterator[Session]:
    """A session inside the test's rolled-back transaction (commit releases a SAVEPOINT)."""
    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        yield session


def _user(session: Session) -> User:
    user = User.model_validate({"email": f"{id(session)}-{datetime.now().timestamp()}@x"})
    session.add(user)
    session.flush()
    return user


def test_database_fills_timestamps_and_orm_sees_them(session: Session) -> None:
    user = _user(session)
    task = Task.model_validate({"user_id": user.id, "title": "write tests"})
    session.add(task)
    session.flush()
    assert task.created_at is not None and task.created_at.tzinfo is not None
    assert task.updated_at == task.created_at
    assert task.completed is False


def test_orm_update_advances_updated_at_and_keeps_created_at(session: Session) -> None:
    task = Task.model_validate({"user_id": _user(session).id, "title": "t"})
    session.add(task)
    session.commit()
    created, updated = task.created_at, task.updated_at
    assert created is not None and updated is not None
    task.title = "renamed"
    task.created_at = datetime(2000, 1, 1, tzinfo=UTC)  # discarded: the database owns it
    session.commit()
    assert task.created_at == created
    assert task.updated_at is not None and task.updated_at > updated
    stored = (
        session.connection()
        .execute(sa.text("SELECT created_at, updated_at FROM tasks WHERE id = :i"), {"i": task.id})
        .one()
    )
    assert (stored.created_at, stored.updated_at) == (task.created_at, task.updated_at)


def _statements(conn: sa.Connection) -> list[str]:
    captured: list[str] = []

    def capture(*args: object) -> None:
        captured.append(str(args[2]))

    sa.event.listen(conn, "before_cursor_execute", capture)
    return captured


def _conversation_with_messages(session: Session) -> Conversation:
    conversation = Conversation.model_validate({"user_id": _user(session).id})
    session.add(conversation)
    session.flush()
    for role in (MessageRole.USER, MessageRole.ASSISTANT):
        session.add(
            Message.model_validate(
                {"conversation_id": conversation.id, "role": role, "content": "hi"}
            )
        )
    session.flush()
    return conversation


def test_orm_delete_of_a_conversation_lets_the_database_cascade(
    session: Session, conn: sa.Connection
) -> None:
    """Unloaded messages are neither loaded, nor updated, nor deleted one by one."""
    conversation = _conversation_with_messages(session)
    session.expire(conversation, ["messages"])
    statements = _statements(conn)
    session.delete(conversation)
    session.flush()
    assert [s for s in statements if "messages" in s] == []
    assert session.exec(select(Message)).all() == []


def test_orm_delete_of_a_conversation_with_loaded_messages_never_nulls_the_fk(
    session: Session, conn: sa.Connection
) -> None:
    """Messages already in the session are deleted in one batch (SQLAlchemy's passive_deletes
    still removes loaded children from the identity map); the FK is never set to NULL."""
    conversation = _conversation_with_messages(session)
    assert len(conversation.messages) == 2
    statements = _statements(conn)
    session.delete(conversation)
    session.flush()
    touching = [s for s in statements if "messages" in s]
    assert len(touching) <= 1 and all(s.startswith("DELETE FROM messages") for s in touching)
    assert session.exec(select(Message)).all() == []


def test_orm_delete_of_a_user_lets_the_database_cascade(
    session: Session, conn: sa.Connection
) -> None:
    user = _user(session)
    session.add(Task.model_validate({"user_id": user.id, "title": "t"}))
    conversation = Conversation.model_validate({"user_id": user.id})
    session.add(conversation)
    session.flush()
    session.add(
        Message.model_validate({"conversation_id": conversation.id, "role": "user", "content": "x"})
    )
    session.flush()
    statements = _statements(conn)
    session.delete(user)
    session.flush()
    assert [s for s in statements if s.lstrip().upper().startswith(("DELETE", "UPDATE"))] == [
        "DELETE FROM users WHERE users.id = %(id)s::UUID"
    ]
    for model in (Task, Conversation, Message):
        assert session.exec(select(model)).all() == []


def test_removing_a_message_from_the_collection_deletes_it(session: Session) -> None:
    conversation = Conversation.model_validate({"user_id": _user(session).id})
    session.add(conversation)
    session.flush()
    message = Message.model_validate(
        {"conversation_id": conversation.id, "role": "assistant", "content": "x"}
    )
    session.add(message)
    session.flush()
    session.refresh(conversation)
    conversation.messages.remove(message)
    session.flush()
    assert session.exec(select(Message)).all() == []


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.one_of(st.text(max_size=210), st.text(" \t\n\u3000\u2028\xa0\x85", max_size=5)))
def test_model_and_database_agree_on_titles(conn: sa.Connection, title: str) -> None:
    """The model accepts a title exactly when PostgreSQL stores it, and it reads back equal."""
    user_id = conn.execute(
        sa.text("INSERT INTO users (email) VALUES (gen_random_uuid()::text) RETURNING id")
    ).scalar_one()
    try:
        Task.model_validate({"user_id": user_id, "title": title})
        model_accepts = True
    except ValidationError:
        model_accepts = False
    savepoint = conn.begin_nested()
    try:
        stored = conn.execute(
            sa.text("INSERT INTO tasks (user_id, title) VALUES (:u, :t) RETURNING title"),
            {"u": user_id, "t": title},
        ).scalar_one()
        database_accepts = True
    except (sa.exc.DBAPIError, ValueError, UnicodeEncodeError):
        # psycopg2 refuses NUL (ValueError) and lone surrogates (UnicodeEncodeError) itself
        stored, database_accepts = None, False
    savepoint.rollback()
    assert model_accepts == database_accepts, (title, model_accepts)
    if database_accepts:
        assert stored == title
