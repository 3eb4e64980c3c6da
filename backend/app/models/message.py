"""``messages``: one turn of a conversation; immutable apart from its content and role."""

import enum
import uuid
from typing import TYPE_CHECKING, Annotated, Any, Optional

from pydantic import AfterValidator
from sqlalchemy import CheckConstraint, Enum, Index, String, Uuid
from sqlmodel import Field, Relationship

from ._base import Base, uuid_primary_key_field
from ._text import check_not_blank, check_storable, not_blank_sql
from ._timestamps import (
    UTCDateTime,
    created_at_field,
    install_created_at_trigger,
    install_orm_guard,
)

if TYPE_CHECKING:
    from .conversation import Conversation

__all__ = ["CONTENT_MAX_LENGTH", "Message", "MessageBase", "MessageCreate", "MessageRole"]

CONTENT_MAX_LENGTH = 5000


class MessageRole(enum.StrEnum):
    """Who wrote a message; stored by *value* in the native enum type ``message_role``."""

    USER = "user"
    ASSISTANT = "assistant"


def _enum_values(enum_class: type[enum.Enum]) -> list[str]:
    """Return the values of ``enum_class``: the labels the database stores."""
    return [str(member.value) for member in enum_class]


class MessageBase(Base):
    """Fields a client supplies for a message."""

    conversation_id: uuid.UUID = Field(
        foreign_key="conversations.id",
        ondelete="CASCADE",
        nullable=False,
        sa_type=Uuid,
    )
    role: MessageRole = Field(
        nullable=False,
        sa_type=Enum(
            MessageRole,
            name="message_role",
            values_callable=_enum_values,
            native_enum=True,
            create_constraint=False,
            validate_strings=True,
        ),
    )
    content: Annotated[str, AfterValidator(check_storable), AfterValidator(check_not_blank)] = (
        Field(
            min_length=1,
            max_length=CONTENT_MAX_LENGTH,
            sa_type=String(CONTENT_MAX_LENGTH),
            nullable=False,
            description="1..5000 characters, not blank after trim.",
        )
    )


class MessageCreate(MessageBase):
    """Validated API input for creating a message."""


class Message(MessageBase, table=True):
    """A row of ``messages``; build it with ``Message.model_validate(...)``.

    Messages have no ``updated_at`` by design; a trigger keeps ``created_at`` unchanged.
    ``conversation_id`` is covered by the composite index (conversation_id, created_at), whose
    leading column serves lookups by conversation and the FK's cascade, so no single index.
    """

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("char_length(content) >= 1", name="content_length"),
        CheckConstraint(not_blank_sql("content"), name="content_not_blank"),
        Index("ix_messages_conversation_id_created_at", "conversation_id", "created_at"),
    )
    __mapper_args__: dict[str, Any] = {"eager_defaults": True}

    id: uuid.UUID = uuid_primary_key_field()
    created_at: UTCDateTime | None = created_at_field()

    conversation: Optional["Conversation"] = Relationship(back_populates="messages")


install_created_at_trigger(Message.__table__)  # type: ignore[attr-defined]
install_orm_guard(Message)
