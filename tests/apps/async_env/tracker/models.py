"""The tracker's one table, on its own registry and MetaData."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from tracker import settings  # noqa: F401  (the app's engine module reads it)

__all__ = ["Ticket", "TrackerModel", "metadata"]


class TrackerModel(SQLModel, registry=registry()):
    """Base class of the tracker's tables."""


metadata = TrackerModel.metadata


class Ticket(TrackerModel, table=True):
    __tablename__ = "tickets"

    id: int | None = Field(default=None, primary_key=True, ge=1, le=2**31 - 1)
    summary: str = Field(min_length=1, max_length=120)
