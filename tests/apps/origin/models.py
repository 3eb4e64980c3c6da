"""The shape of the app this project's spec came from (a corpus app): a chat message whose role
is an enum stored by member name (``USER``) while clients send its values (``user``), in a
column left nullable although the model requires a role. Expected: advice about the enum, and
the role's NOT NULL reported as unguarded (only the model enforces it)."""

import enum

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Column, Field, SQLModel

__all__ = ["Message", "Role", "metadata"]


class OriginModel(SQLModel, registry=registry()):
    """Base class of the app's models."""


metadata = OriginModel.metadata


class Role(str, enum.Enum):  # noqa: UP042 - the idiom of the apps this one stands for
    USER = "user"
    ASSISTANT = "assistant"


class Message(OriginModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    role: Role = Field(sa_column=Column(sa.Enum(Role, name="role"), nullable=True))
    content: str = Field(max_length=4000)
