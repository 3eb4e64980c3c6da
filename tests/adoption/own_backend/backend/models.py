"""Notebooks and their notes, written the everyday SQLModel way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class NotebookBase(SQLModel):
    name: str = Field(min_length=1, max_length=60)


class Notebook(NotebookBase, table=True):
    __tablename__ = "notebooks"
    __table_args__ = (sa.CheckConstraint("char_length(name) >= 1", name="ck_notebooks_name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)


class Note(SQLModel, table=True):
    __tablename__ = "notes"
    __table_args__ = (sa.CheckConstraint("char_length(title) >= 1", name="ck_notes_title"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    notebook_id: uuid.UUID = Field(foreign_key="notebooks.id", ondelete="CASCADE", index=True)
    title: str = Field(min_length=1, max_length=80)
