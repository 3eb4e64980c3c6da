"""Model set C: a chain of foreign keys, NOT NULL at one level and nullable at the others."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class _Chain(SQLModel, registry=registry()):
    """Own registry: nothing leaks into SQLModel.metadata or the backend's."""


class Region(_Chain, table=True):
    __tablename__ = "sf_region"
    id: int | None = Field(default=None, primary_key=True)


class Store(_Chain, table=True):
    __tablename__ = "sf_store"
    id: int | None = Field(default=None, primary_key=True)
    region_id: int = Field(foreign_key="sf_region.id")  # NOT NULL


class Shelf(_Chain, table=True):
    __tablename__ = "sf_shelf"
    id: int | None = Field(default=None, primary_key=True)
    store_id: int | None = Field(default=None, foreign_key="sf_store.id")
    label: str = Field(max_length=8)


class Item(_Chain, table=True):
    __tablename__ = "sf_chain_item"
    id: int | None = Field(default=None, primary_key=True)
    shelf_id: int | None = Field(default=None, foreign_key="sf_shelf.id")
    name: str = Field(max_length=8)
