"""The shop's models, on their own registry and MetaData (never ``SQLModel.metadata``).

- categories: name VARCHAR(60) NOT NULL, parent_id -> categories ON DELETE CASCADE (nullable),
  UNIQUE (parent_id, name)
- products: sku VARCHAR(32) UNIQUE, name VARCHAR(100) NOT NULL, status: native enum
  ``productstatus`` stored by member *name* (ACTIVE, DISCONTINUED; SQLAlchemy's default),
  category_id -> categories ON DELETE RESTRICT, UNIQUE (category_id, name)
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# INTEGER columns hold at most this: without the bound the model would accept ids
# PostgreSQL refuses (22003), which the constraint properties report as a finding.
INT4_MAX = 2**31 - 1

__all__ = ["Category", "Product", "ProductStatus", "ShopModel", "metadata"]


class ShopModel(SQLModel, registry=registry()):
    """Base class of the shop's tables."""


metadata = ShopModel.metadata


class ProductStatus(enum.Enum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class Category(ShopModel, table=True):
    __tablename__ = "categories"
    __table_args__ = (sa.UniqueConstraint("parent_id", "name", name="uq_categories_parent_name"),)

    id: int | None = Field(default=None, primary_key=True, ge=1, le=INT4_MAX)
    name: str = Field(min_length=1, max_length=60)
    parent_id: int | None = Field(default=None, foreign_key="categories.id", ondelete="CASCADE",
                                  nullable=True)


class Product(ShopModel, table=True):
    __tablename__ = "products"
    __table_args__ = (
        sa.UniqueConstraint("category_id", "name", name="uq_products_category_name"),
    )

    id: int | None = Field(default=None, primary_key=True, ge=1, le=INT4_MAX)
    sku: str = Field(min_length=1, max_length=32, unique=True)
    name: str = Field(min_length=1, max_length=100)
    status: ProductStatus = Field(sa_type=sa.Enum(ProductStatus, name="productstatus"))
    category_id: int = Field(foreign_key="categories.id", ondelete="RESTRICT")
