"""``conversations``: a chat thread owned by a user, holding messages."""

import uuid
from typing import TYPE_CHECKING, Any, Optional, Self

from pydantic import model_validator
from sqlalchemy import CheckConstraint, Index, Uuid
from sqlmodel import Field, Relationship

from ._base import Base, uuid_primary_key_field
from ._timestamps import (
    UTCDateTime,
    check_timestamp_order,
    created_at_field,
    install_orm_guard,
    install_timestamp_triggers,
    updated_at_field,
)

if TYPE_CHECKING:
    from .message import Message
    from .user import User

__all__ = ["Conversation", "ConversationBase", "ConversationCreate"]


class ConversationBase(Base):
    """Fields a client supplies for a conversation."""

    user_id: uuid.UUID = Field(
        foreign_key="users.id",
        ondelete="CASCADE",
        nullable=False,
        index=True,
        sa_type=Uuid,
    )


class ConversationCreate(ConversationBase):
    """Validated API input for creating a conversation."""


class Conversation(ConversationBase, table=True):
    """A row of ``conversations``; build it with ``Conversation.model_validate(...)``.

    Deleting a conversation through the ORM deletes its messages in the database
    (``ON DELETE CASCADE`` with ``passive_deletes=True``: no per-message DELETE, no FK nulling).
    """

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint("updated_at >= created_at", name="updated_at_gte_created_at"),
        Index("ix_conversations_user_id_updated_at", "user_id", "updated_at"),
    )
    __mapper_args__: dict[str, Any] = {"eager_defaults": True}

    id: uuid.UUID = uuid_primary_key_field()
    created_at: UTCDateTime | None = created_at_field()
    updated_at: UTCDateTime | None = updated_at_field()

    user: Optional["User"] = Relationship(back_populates="conversations")
    messages: list["Message"] = Relationship(
        back_populates="conversation",
        sa_relationship_kwargs={
            "cascade": "all, delete-orphan",
            "passive_deletes": True,
            "order_by": "(Message.created_at, Message.id)",
        },
    )

    @model_validator(mode="after")
    def _timestamps_in_order(self) -> Self:
        check_timestamp_order(self.created_at, self.updated_at)
        return self


install_timestamp_triggers(Conversation.__table__)  # type: ignore[attr-defined]
install_orm_guard(Conversation)
