"""The models: validation under ``model_validate``/``*Create`` and what the Table declares."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import configure_mappers

from backend.app import models
from backend.app.models import (
    Conversation,
    ConversationCreate,
    Message,
    MessageCreate,
    MessageRole,
    Task,
    TaskCreate,
    User,
    UserCreate,
    metadata,
)
from backend.app.models._text import PY_WHITESPACE

UID = uuid.uuid4()


def _task(**fields: Any) -> Task:
    return Task.model_validate({"user_id": UID, "title": "t", **fields})


def test_whitespace_set_is_pythons() -> None:
    expected = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert expected == PY_WHITESPACE


@pytest.mark.parametrize("model", [Task, TaskCreate])
@pytest.mark.parametrize(
    "title",
    ["", " ", "\t\n", "\u3000\u2028", "x" * 201, "a\x00b", "a\ud800", "\udfff"],
)
def test_bad_titles_are_rejected(model: type[Any], title: str) -> None:
    with pytest.raises(ValidationError) as caught:
        model.model_validate({"user_id": UID, "title": title})
    assert caught.value.errors()[0]["loc"] == ("title",)


@pytest.mark.parametrize(
    "title", ["x", "x" * 200, " x ", "\u200b", "\U0001f600" * 200, "e\u0301", "😀\t"]
)
def test_good_titles_are_accepted(title: str) -> None:
    assert _task(title=title).title == title


@pytest.mark.parametrize("description", ["d" * 1001, "\x00", "\ud83d"])
def test_bad_descriptions_are_rejected(description: str) -> None:
    with pytest.raises(ValidationError):
        _task(description=description)


@pytest.mark.parametrize("description", [None, "", "   ", "d" * 1000])
def test_good_descriptions_are_accepted(description: str | None) -> None:
    assert _task(description=description).description == description


@pytest.mark.parametrize("email", ["", "x" * 256, "a\x00@b", "\ud800@b"])
def test_bad_emails_are_rejected(email: str) -> None:
    for model in (User, UserCreate):
        with pytest.raises(ValidationError):
            model.model_validate({"email": email})


@pytest.mark.parametrize("content", ["", " ", "x" * 5001, "\x00", "\udc00"])
def test_bad_message_content_is_rejected(content: str) -> None:
    for model in (Message, MessageCreate):
        with pytest.raises(ValidationError):
            model.model_validate({"conversation_id": UID, "role": "user", "content": content})


@pytest.mark.parametrize(
    ("raw", "member"), [("user", MessageRole.USER), ("assistant", MessageRole.ASSISTANT)]
)
def test_roles_are_values(raw: str, member: MessageRole) -> None:
    message = Message.model_validate({"conversation_id": UID, "role": raw, "content": "hi"})
    assert message.role is member


@pytest.mark.parametrize("raw", ["USER", "Assistant", "moderator", ""])
def test_unknown_roles_are_rejected(raw: str) -> None:
    with pytest.raises(ValidationError):
        MessageCreate.model_validate({"conversation_id": UID, "role": raw, "content": "hi"})


def test_datetimes_are_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    task = _task(created_at=datetime(2020, 1, 1, 12, tzinfo=plus_two))
    assert task.created_at == datetime(2020, 1, 1, 10, tzinfo=UTC)
    assert task.created_at is not None and task.created_at.tzinfo is UTC
    naive = _task(created_at=datetime(2020, 1, 1, 12))
    assert naive.created_at == datetime(2020, 1, 1, 12, tzinfo=UTC)


def test_datetimes_that_leave_the_range_in_utc_are_rejected() -> None:
    with pytest.raises(ValidationError):
        _task(created_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))


@pytest.mark.parametrize("model", [User, Task, Conversation])
def test_updated_before_created_is_rejected(model: type[Any]) -> None:
    data = {"user_id": UID, "title": "t", "email": "e"}
    fields = {name: value for name, value in data.items() if name in model.model_fields}
    later, earlier = datetime(2020, 1, 2, tzinfo=UTC), datetime(2020, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="updated_at must not be earlier"):
        model.model_validate({**fields, "created_at": later, "updated_at": earlier})
    ok = model.model_validate({**fields, "created_at": earlier, "updated_at": later})
    assert ok.updated_at == later


def test_create_models_are_not_tables_and_validate_on_construction() -> None:
    for create in (UserCreate, TaskCreate, ConversationCreate, MessageCreate):
        assert not hasattr(create, "__table__")
    with pytest.raises(ValidationError):
        TaskCreate(user_id=UID, title="   ")
    assert TaskCreate(user_id=UID, title="a").completed is False
    assert ConversationCreate(user_id=UID).user_id == UID


def test_ids_are_generated_in_python() -> None:
    assert _task().id != _task().id


# --- what the SQLAlchemy Table declares (a generic tool reads these) -------------------------


def _checks(table: sa.Table) -> dict[str, str]:
    return {
        str(c.name): str(c.sqltext) for c in table.constraints if isinstance(c, sa.CheckConstraint)
    }


def test_metadata_holds_exactly_the_four_tables() -> None:
    assert set(metadata.tables) == {"users", "tasks", "conversations", "messages"}
    assert models.metadata is metadata


@pytest.mark.parametrize(
    ("table", "column", "length", "nullable"),
    [
        ("users", "email", 255, False),
        ("tasks", "title", 200, False),
        ("tasks", "description", 1000, True),
        ("messages", "content", 5000, False),
    ],
)
def test_lengths_are_varchar(table: str, column: str, length: int, nullable: bool) -> None:
    col = metadata.tables[table].c[column]
    assert isinstance(col.type, sa.String) and col.type.length == length
    assert col.nullable is nullable


def test_check_constraints_are_named_and_declared() -> None:
    assert set(_checks(metadata.tables["users"])) == {"ck_users_email_length"}
    assert set(_checks(metadata.tables["tasks"])) == {
        "ck_tasks_title_length",
        "ck_tasks_title_not_blank",
        "ck_tasks_updated_at_gte_created_at",
    }
    assert set(_checks(metadata.tables["conversations"])) == {
        "ck_conversations_updated_at_gte_created_at"
    }
    assert set(_checks(metadata.tables["messages"])) == {
        "ck_messages_content_length",
        "ck_messages_content_not_blank",
    }


@pytest.mark.parametrize(
    ("table", "column", "target", "name"),
    [
        ("tasks", "user_id", "users.id", "fk_tasks_user_id_users"),
        ("conversations", "user_id", "users.id", "fk_conversations_user_id_users"),
        (
            "messages",
            "conversation_id",
            "conversations.id",
            "fk_messages_conversation_id_conversations",
        ),
    ],
)
def test_foreign_keys_cascade(table: str, column: str, target: str, name: str) -> None:
    (fk,) = metadata.tables[table].c[column].foreign_keys
    assert fk.target_fullname == target
    assert fk.ondelete == "CASCADE"
    assert fk.constraint is not None and fk.constraint.name == name
    assert metadata.tables[table].c[column].nullable is False


def test_indexes_are_exactly_the_designed_ones() -> None:
    found = {
        (table.name, tuple(c.name for c in index.columns))
        for table in metadata.tables.values()
        for index in table.indexes
    }
    assert found == {
        ("tasks", ("user_id",)),
        ("tasks", ("user_id", "completed")),
        ("conversations", ("user_id",)),
        ("conversations", ("user_id", "updated_at")),
        ("messages", ("conversation_id", "created_at")),
    }


def test_unique_email_is_named() -> None:
    uniques = [
        c for c in metadata.tables["users"].constraints if isinstance(c, sa.UniqueConstraint)
    ]
    assert [(u.name, [c.name for c in u.columns]) for u in uniques] == [
        ("uq_users_email", ["email"])
    ]


def test_role_is_a_native_enum_of_values() -> None:
    role_type = metadata.tables["messages"].c.role.type
    assert isinstance(role_type, sa.Enum)
    assert role_type.name == "message_role" and role_type.native_enum
    assert role_type.enums == ["user", "assistant"]


def test_timestamps_and_ids_have_server_defaults() -> None:
    for table in metadata.tables.values():
        assert table.c.id.primary_key and table.c.id.server_default is not None
        stamps = ["created_at"] + (["updated_at"] if table.name != "messages" else [])
        for name in stamps:
            column = table.c[name]
            assert isinstance(column.type, sa.DateTime) and column.type.timezone
            assert column.server_default is not None and not column.nullable
    assert "updated_at" not in metadata.tables["messages"].c


@pytest.mark.parametrize(
    ("model", "attribute"),
    [(User, "tasks"), (User, "conversations"), (Conversation, "messages")],
)
def test_parent_relationships_let_the_database_cascade(model: type[Any], attribute: str) -> None:
    configure_mappers()
    relationship = sa.inspect(model).relationships[attribute]
    assert relationship.passive_deletes is True
    assert relationship.cascade.delete and relationship.cascade.delete_orphan
