"""``tasks``: a to-do item owned by a user."""

import uuid
from typing import TYPE_CHECKING, Annotated, Any, Optional, Self

from pydantic import AfterValidator, model_validator
from sqlalchemy import CheckConstraint, Index, String, Uuid, false
from sqlmodel import Field, Relationship

from ._base import Base, uuid_primary_key_field
from ._text import check_not_blank, check_storable, not_blank_sql
from ._timestamps import (
    UTCDateTime,
    check_timestamp_order,
    created_at_field,
    install_orm_guard,
    install_timestamp_triggers,
    updated_at_field,
)

if TYPE_CHECKING:
    from .user import User

__all__ = ["DESCRIPTION_MAX_LENGTH", "TITLE_MAX_LENGTH", "Task", "TaskBase", "TaskCreate"]

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000


class TaskBase(Base):
    """Fields a client supplies for a task."""

    user_id: uuid.UUID = Field(
        foreign_key="users.id",
        ondelete="CASCADE",
        nullable=False,
        index=True,
        sa_type=Uuid,
    )
    title: Annotated[str, AfterValidator(check_storable), AfterValidator(check_not_blank)] = Field(
        min_length=1,
        max_length=TITLE_MAX_LENGTH,
        sa_type=String(TITLE_MAX_LENGTH),
        nullable=False,
        description="1..200 characters, not blank after trim.",
    )
    description: Annotated[str, AfterValidator(check_storable)] | None = Field(
        default=None,
        max_length=DESCRIPTION_MAX_LENGTH,
        sa_type=String(DESCRIPTION_MAX_LENGTH),
        nullable=True,
        description="NULL or at most 1000 characters.",
    )
    completed: bool = Field(
        default=False,
        nullable=False,
        sa_column_kwargs={"server_default": false()},
    )


class TaskCreate(TaskBase):
    """Validated API input for creating a task."""


class Task(TaskBase, table=True):
    """A row of ``tasks``; build it with ``Task.model_validate(...)`` to run the validators."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("char_length(title) >= 1", name="title_length"),
        CheckConstraint(not_blank_sql("title"), name="title_not_blank"),
        CheckConstraint("updated_at >= created_at", name="updated_at_gte_created_at"),
        Index("ix_tasks_user_id_completed", "user_id", "completed"),
    )
    __mapper_args__: dict[str, Any] = {"eager_defaults": True}

    id: uuid.UUID = uuid_primary_key_field()
    created_at: UTCDateTime | None = created_at_field()
    updated_at: UTCDateTime | None = updated_at_field()

    user: Optional["User"] = Relationship(back_populates="tasks")

    @model_validator(mode="after")
    def _timestamps_in_order(self) -> Self:
        check_timestamp_order(self.created_at, self.updated_at)
        return self


install_timestamp_triggers(Task.__table__)  # type: ignore[attr-defined]
install_orm_guard(Task)
