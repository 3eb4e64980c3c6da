"""An app whose own code refuses the rows it makes (a corpus app with one true finding): its
``AwareDateTime`` type refuses naive datetimes, as many apps' types do, while its
``default_factory=datetime.utcnow`` makes naive ones. Every insert of an ``event`` fails in the
app's code, before PostgreSQL sees it: one finding about ``event.happened_at``, the tests that
need an event blocked by it."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = ["AwareDateTime", "Event", "metadata"]


class AwareDateTime(TypeDecorator[datetime]):
    """timestamptz that refuses naive datetimes."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("Datetime values must have timezone information")
        return value


class ClockModel(SQLModel, registry=registry()):
    """Base class of the app's models."""


metadata = ClockModel.metadata


class Event(ClockModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    happened_at: datetime = Field(default_factory=datetime.utcnow, sa_type=AwareDateTime)
