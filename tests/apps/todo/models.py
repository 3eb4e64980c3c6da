"""A todo app written the way SQLModel apps are written in the wild (a corpus app: the suite
must pass on it with no finding of its own making).

- ``user`` (a reserved word): serial id, ``EmailStr`` email unique, name, a ``default_factory``
  timestamp in ``sa_column=`` with no server default.
- ``task``: ``TaskBase`` (non-table) -> ``Task`` / ``TaskCreate``; title ``max_length`` 200,
  priority an enum stored the SQLModel way (by member name), ``done`` with a server default,
  ``created_at`` via ``sa_type=`` and ``default_factory``, ``owner_id`` -> user ON DELETE CASCADE
  with ``Relationship(cascade_delete=True)``.
- ``tag``: an identity key; name unique.
- ``tasktaglink``: a many-to-many link table with a composite primary key.
"""

import enum
from datetime import UTC, datetime
from typing import Optional

import sqlalchemy as sa
from pydantic import EmailStr
from sqlalchemy.orm import registry
from sqlmodel import Column, DateTime, Field, Relationship, SQLModel

__all__ = ["Priority", "Tag", "Task", "TaskBase", "TaskCreate", "TaskTagLink", "TodoModel",
           "User", "metadata"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class TodoModel(SQLModel, registry=registry()):
    """Base class of the todo app's models."""


metadata = TodoModel.metadata


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"


class TaskTagLink(TodoModel, table=True):
    task_id: int = Field(foreign_key="task.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE")


class User(TodoModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: EmailStr = Field(max_length=255, unique=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False),
    )
    tasks: list["Task"] = Relationship(back_populates="owner", cascade_delete=True)


class TaskBase(TodoModel):
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    priority: Priority = Priority.LOW
    done: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class Task(TaskBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    owner_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    owner: Optional["User"] = Relationship(back_populates="tasks")
    tags: list["Tag"] = Relationship(back_populates="tasks", link_model=TaskTagLink)


class TaskCreate(TaskBase):
    owner_id: int


class Tag(TodoModel, table=True):
    id: int | None = Field(default=None, sa_column=Column(sa.Integer, sa.Identity(),
                                                          primary_key=True))
    name: str = Field(max_length=50, unique=True)
    tasks: list["Task"] = Relationship(back_populates="tags", link_model=TaskTagLink)
