"""``users``: an account that owns tasks and conversations."""

import uuid
from typing import TYPE_CHECKING, Annotated, Any, Self

from pydantic import AfterValidator, model_validator
from sqlalchemy import CheckConstraint, String
from sqlmodel import Field, Relationship

from ._base import Base, uuid_primary_key_field
from ._text import check_storable
from ._timestamps import (
    UTCDateTime,
    check_timestamp_order,
    created_at_field,
    install_orm_guard,
    install_timestamp_triggers,
    updated_at_field,
)

if TYPE_CHECKING:
    from .conversation import Conversation
    from .task import Task

__all__ = ["EMAIL_MAX_LENGTH", "User", "UserBase", "UserCreate"]

EMAIL_MAX_LENGTH = 255


class UserBase(Base):
    """Fields a client supplies for a user."""

    email: Annotated[str, AfterValidator(check_storable)] = Field(
        min_length=1,
        max_length=EMAIL_MAX_LENGTH,
        sa_type=String(EMAIL_MAX_LENGTH),
        nullable=False,
        unique=True,
        description="Unique, 1..255 characters.",
    )


class UserCreate(UserBase):
    """Validated API input for creating a user."""


class User(UserBase, table=True):
    """A row of ``users``; build it with ``User.model_validate(...)`` to run the validators."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("char_length(email) >= 1", name="email_length"),)
    __mapper_args__: dict[str, Any] = {"eager_defaults": True}

    id: uuid.UUID = uuid_primary_key_field()
    created_at: UTCDateTime | None = created_at_field()
    updated_at: UTCDateTime | None = updated_at_field()

    tasks: list["Task"] = Relationship(
        back_populates="user",
        sa_relationship_kwargs={"cascade": "all, delete-orphan", "passive_deletes": True},
    )
    conversations: list["Conversation"] = Relationship(
        back_populates="user",
        sa_relationship_kwargs={"cascade": "all, delete-orphan", "passive_deletes": True},
    )

    @model_validator(mode="after")
    def _timestamps_in_order(self) -> Self:
        check_timestamp_order(self.created_at, self.updated_at)
        return self


install_timestamp_triggers(User.__table__)  # type: ignore[attr-defined]
install_orm_guard(User)
