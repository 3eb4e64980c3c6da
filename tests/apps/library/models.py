"""The library's models, on their own registry and MetaData (never ``SQLModel.metadata``).

- authors: name VARCHAR(120) NOT NULL UNIQUE
- books: title VARCHAR(200), isbn VARCHAR(13) UNIQUE, price NUMERIC(8,2) >= 0, pages > 0,
  author_id -> authors ON DELETE SET NULL (nullable)
- loans: book_id -> books ON DELETE RESTRICT, borrower VARCHAR(100), loaned_on DATE,
  returned BOOLEAN NOT NULL DEFAULT false
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# INTEGER columns hold at most this: without the bound the model would accept ids
# PostgreSQL refuses (22003), which the constraint properties report as a finding.
INT4_MAX = 2**31 - 1

__all__ = ["Author", "Book", "LibraryModel", "Loan", "metadata"]


class LibraryModel(SQLModel, registry=registry()):
    """Base class of the library's tables."""


metadata = LibraryModel.metadata


class Author(LibraryModel, table=True):
    __tablename__ = "authors"

    id: int | None = Field(default=None, primary_key=True, ge=1, le=INT4_MAX)
    name: str = Field(min_length=1, max_length=120, unique=True)


class Book(LibraryModel, table=True):
    __tablename__ = "books"
    __table_args__ = (
        sa.CheckConstraint("price >= 0", name="ck_books_price_not_negative"),
        sa.CheckConstraint("pages > 0", name="ck_books_pages_positive"),
    )

    id: int | None = Field(default=None, primary_key=True, ge=1, le=INT4_MAX)
    title: str = Field(min_length=1, max_length=200)
    isbn: str = Field(min_length=10, max_length=13, unique=True)
    price: Decimal = Field(max_digits=8, decimal_places=2, ge=0)
    pages: int = Field(gt=0, le=100_000)
    author_id: int | None = Field(default=None, foreign_key="authors.id", ondelete="SET NULL",
                                  nullable=True)


class Loan(LibraryModel, table=True):
    __tablename__ = "loans"

    id: int | None = Field(default=None, primary_key=True, ge=1, le=INT4_MAX)
    book_id: int = Field(foreign_key="books.id", ondelete="RESTRICT")
    borrower: str = Field(min_length=1, max_length=100)
    loaned_on: date
    returned: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
