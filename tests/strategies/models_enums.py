"""Model set B: enums stored by member *name* (SQLModel's default), by value, non-native."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class Base(SQLModel, registry=registry()):
    """Own registry/MetaData."""


metadata = Base.metadata


class Priority(enum.Enum):
    LOW = "low"
    HIGH = "high"
    URGENT = "urgent!"


class Status(str, enum.Enum):  # noqa: UP042 - the (str, Enum) form apps commonly use
    OPEN = "open"
    CLOSED = "closed"


class Board(Base, table=True):
    __tablename__ = "sf_board"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    slug: str = Field(max_length=20, unique=True, index=True)
    owner_id: uuid.UUID | None = Field(default=None, foreign_key="sf_board.id",
                                       ondelete="CASCADE")


class Ticket(Base, table=True):
    __tablename__ = "sf_ticket"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    board_id: uuid.UUID = Field(foreign_key="sf_board.id", ondelete="CASCADE")
    priority: Priority  # native enum "priority", labels are the member NAMES
    status: Status = Field(
        default=Status.OPEN,
        sa_type=sa.Enum(Status, native_enum=False, create_constraint=True,
                        name="ticket_status", length=10),
    )
    kind: Priority = Field(
        sa_type=sa.Enum(Priority, name="ticket_kind",
                        values_callable=lambda e: [m.value for m in e]),
    )
    title: str = Field(max_length=5, min_length=1)
    body: str = Field(default="", max_length=50, sa_type=sa.Text)  # model-only limit
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    seq: int = Field(sa_type=sa.BigInteger)
    flag: bool = False
    local_at: dt.datetime = Field(sa_type=sa.DateTime(timezone=False))


MODELS = [Board, Ticket]
