"""The declarative base and the MetaData that every backend table model shares.

The MetaData carries a naming convention so that every constraint and index has a stable,
readable name (``pk_users``, ``uq_users_email``, ``fk_tasks_user_id_users``,
``ck_tasks_title_not_blank``, ``ix_tasks_user_id``) in ``create_all``, in the Alembic revisions
and in PostgreSQL error messages alike.  The tables live in their own registry rather than in
``SQLModel.metadata`` so that other SQLModel classes defined in the same process (for example
by tests) never leak into the schema under test.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import MetaData, Uuid, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

__all__ = ["NAMING_CONVENTION", "Base", "metadata", "uuid_primary_key_field"]

#: Constraint and index names.  CHECK constraints are declared with a short name
#: (``title_not_blank``) that the convention prefixes with ``ck_<table>_``.
NAMING_CONVENTION: dict[str, str] = {
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
_registry = registry(metadata=metadata)


class Base(SQLModel, registry=_registry):
    """Abstract base of the backend's models: table models map into :data:`metadata`."""


def uuid_primary_key_field() -> Any:
    """Return the ``id`` field every table shares: a UUID primary key made by Python (uuid4)
    for ORM inserts and by the database (``gen_random_uuid()``) for raw SQL ones."""
    return Field(
        default_factory=uuid.uuid4,
        primary_key=True,
        sa_type=Uuid,
        sa_column_kwargs={"server_default": text("gen_random_uuid()")},
    )
