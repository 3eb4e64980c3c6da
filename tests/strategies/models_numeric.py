"""Model set A: integers, decimals, floats, unique constraints, self-FK, SET NULL, RESTRICT."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Own registry/MetaData: nothing leaks into SQLModel.metadata or the backend's."""


metadata = Base.metadata


class Category(Base, table=True):
    __tablename__ = "sf_category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=12, unique=True)
    score: int = Field(sa_type=sa.SmallInteger, ge=-100)


class Item(Base, table=True):
    __tablename__ = "sf_item"
    __table_args__ = (
        sa.CheckConstraint("quantity >= 0 AND quantity <= 10000", name="ck_item_quantity"),
        sa.CheckConstraint("char_length(name) >= 2", name="ck_item_name_len"),
        sa.CheckConstraint("btrim(name) <> ''", name="ck_item_name_not_blank"),
        sa.UniqueConstraint("category_id", "name", name="uq_item_category_name"),
    )

    id: int | None = Field(default=None, sa_type=sa.BigInteger, primary_key=True)
    name: str = Field(max_length=40)
    quantity: int = 0
    price: Decimal = Field(max_digits=10, decimal_places=2)
    ratio: float | None = None
    weight: float = Field(default=0.0, sa_type=sa.REAL)
    category_id: int = Field(foreign_key="sf_category.id", ondelete="RESTRICT")
    parent_id: int | None = Field(
        default=None, sa_type=sa.BigInteger, foreign_key="sf_item.id", ondelete="SET NULL"
    )
    sku: uuid.UUID = Field(default_factory=uuid.uuid4, unique=True)
    created: dt.datetime = Field(sa_type=sa.DateTime(timezone=True))
    day: dt.date | None = None
    note: str | None = Field(default=None, sa_type=sa.Text)


MODELS = [Category, Item]
