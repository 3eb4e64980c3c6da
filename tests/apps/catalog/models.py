"""A product catalogue written with everyday SQLModel patterns (a corpus app: the suite must pass
on it when its database enforces its models).

- ``supplier``: uuid key from ``default_factory``; ``website`` an ``HttpUrl`` kept as text
  through a ``TypeDecorator`` (``sa_type=``);
  ``code`` a ``constr(pattern=...)`` with the same rule as a CHECK.
- ``category``: a string primary key with a pattern and a CHECK; ``parent_code`` a nullable
  self-reference ON DELETE SET NULL.
- ``product``: ``Decimal`` price with ``max_digits``/``decimal_places`` and CHECKs, ``date`` and
  ``time`` columns, JSON and JSONB, an ARRAY of tags, ``bytes``; a status enum stored by value
  (``values_callable``); a unique constraint and a CHECK over several columns in
  ``__table_args__``, the CHECK over two columns mirrored by a ``model_validator``;
  ``supplier_id`` ON DELETE RESTRICT, ``category_code`` ON DELETE SET NULL.
- ``review``: ON DELETE CASCADE with ``passive_deletes=True`` and ``cascade="all, delete-orphan"``
  on the parent's side; a server-default timestamp.
"""

import enum
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import HttpUrl, StringConstraints, model_validator
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, Relationship, SQLModel

__all__ = ["Category", "Product", "Review", "Status", "Supplier", "metadata"]

SupplierCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}-[0-9]{3}$")]
# Field(regex=...) is silently ignored by SQLModel on Pydantic 2: the pattern goes in the type.
CategoryCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,12}$")]


class HttpUrlText(TypeDecorator[HttpUrl]):
    """An ``HttpUrl`` stored as text: psycopg2 cannot send pydantic's URL objects as they are."""

    impl = sa.String(2083)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Any) -> HttpUrl | None:
        return None if value is None else HttpUrl(value)


class CatalogModel(SQLModel, registry=registry()):
    """Base class of the catalogue's models."""


metadata = CatalogModel.metadata


class Status(enum.Enum):
    DRAFT = "draft"
    ON_SALE = "on-sale"
    RETIRED = "retired"


class Supplier(CatalogModel, table=True):
    __table_args__ = (
        sa.CheckConstraint("code ~ '^[A-Z]{3}-[0-9]{3}$'", name="ck_supplier_code_format"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: SupplierCode = Field(max_length=7, unique=True)
    name: str = Field(max_length=120)
    website: HttpUrl | None = Field(default=None, sa_type=HttpUrlText)
    # RESTRICT: the ORM must not null the products' supplier_id before the DELETE (its default),
    # but leave it to the database to refuse the delete.
    products: list["Product"] = Relationship(
        back_populates="supplier", sa_relationship_kwargs={"passive_deletes": "all"})


class Category(CatalogModel, table=True):
    __table_args__ = (
        sa.CheckConstraint("code ~ '^[a-z]{2,12}$'", name="ck_category_code_format"),
    )

    code: CategoryCode = Field(primary_key=True, max_length=12)
    label: str = Field(max_length=80)
    parent_code: str | None = Field(default=None, foreign_key="category.code",
                                    ondelete="SET NULL", max_length=12)


class Product(CatalogModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("supplier_id", "sku", name="uq_product_supplier_sku"),
        sa.CheckConstraint("price >= 0", name="ck_product_price_not_negative"),
        sa.CheckConstraint("price <= 99999.99", name="ck_product_price_at_most"),
        sa.CheckConstraint("stock >= 0", name="ck_product_stock_not_negative"),
        sa.CheckConstraint("available_from <= available_until",
                           name="ck_product_availability_ordered"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=32)
    price: Decimal = Field(max_digits=7, decimal_places=2, ge=0, le=99999.99)
    stock: int = Field(default=0, ge=0, le=2**31 - 1)
    available_from: date
    available_until: date
    opens_at: time | None = None
    status: Status = Field(default=Status.DRAFT, sa_column=Column(
        sa.Enum(Status, name="product_status",
                values_callable=lambda members: [m.value for m in members]),
        nullable=False))
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=postgresql.JSONB)
    dimensions: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    tags: list[str] = Field(default_factory=list, sa_column=Column(
        postgresql.ARRAY(sa.String(20)), nullable=False, server_default="{}"))
    thumbnail: bytes | None = None
    supplier_id: uuid.UUID = Field(foreign_key="supplier.id", ondelete="RESTRICT")
    category_code: str | None = Field(default=None, foreign_key="category.code",
                                      ondelete="SET NULL", max_length=12)
    supplier: Supplier | None = Relationship(back_populates="products")

    @model_validator(mode="after")
    def _availability_ordered(self) -> "Product":
        if self.available_from > self.available_until:
            raise ValueError("available_from must not be after available_until")
        return self
    reviews: list["Review"] = Relationship(
        back_populates="product",
        sa_relationship_kwargs={"cascade": "all, delete-orphan", "passive_deletes": True})


class Review(CatalogModel, table=True):
    __table_args__ = (
        sa.CheckConstraint("stars >= 1", name="ck_review_stars_at_least_1"),
        sa.CheckConstraint("stars <= 5", name="ck_review_stars_at_most_5"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", ondelete="CASCADE")
    stars: int = Field(ge=1, le=5)
    body: str = Field(default="", max_length=2000)
    written_at: datetime = Field(sa_column=Column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()))
    product: Product | None = Relationship(back_populates="reviews")
