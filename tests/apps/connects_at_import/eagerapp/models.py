"""The app's one table; importing the models imports the engine (and so checks the database)."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from eagerapp.db import engine  # noqa: F401  (the app's session helpers use it)

__all__ = ["EagerModel", "Item", "metadata"]


class EagerModel(SQLModel, registry=registry()):
    """Base class of the app's tables."""


metadata = EagerModel.metadata


class Item(EagerModel, table=True):
    __tablename__ = "items"

    id: int | None = Field(default=None, primary_key=True, ge=1, le=2**31 - 1)
    name: str = Field(min_length=1, max_length=50)
