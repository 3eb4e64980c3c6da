"""The notes app's models, on their own registry and MetaData.

- notebooks: title VARCHAR(100) NOT NULL UNIQUE
- notes: notebook_id -> notebooks ON DELETE CASCADE, body VARCHAR(500) NOT NULL,
  pinned BOOLEAN NOT NULL DEFAULT false (added by the second revision)
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

INT4_MAX = 2**31 - 1

__all__ = ["Note", "Notebook", "NotesModel", "metadata"]


class NotesModel(SQLModel, registry=registry()):
    """Base class of the notes app's tables."""


metadata = NotesModel.metadata


class Notebook(NotesModel, table=True):
    __tablename__ = "notebooks"

    id: int | None = Field(default=None, primary_key=True, ge=1, le=INT4_MAX)
    title: str = Field(min_length=1, max_length=100, unique=True)


class Note(NotesModel, table=True):
    __tablename__ = "notes"

    id: int | None = Field(default=None, primary_key=True, ge=1, le=INT4_MAX)
    notebook_id: int = Field(foreign_key="notebooks.id", ondelete="CASCADE")
    body: str = Field(min_length=1, max_length=500)
    pinned: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
