"""Timestamp columns and the triggers that keep them honest, whatever client writes.

Rules (design §2): ``created_at``/``updated_at`` are ``timestamptz NOT NULL``, filled by the
database when omitted, ``updated_at >= created_at`` (CHECK), every UPDATE moves ``updated_at``
strictly forward and never changes ``created_at`` — for ORM and raw SQL alike, hence triggers:

* ``timestamps_before_update()`` (BEFORE UPDATE, users/tasks/conversations): restores
  ``created_at`` and sets ``updated_at := greatest(clock_timestamp(), OLD.updated_at + 1µs)``.
  ``clock_timestamp()`` because ``now()`` is constant inside a transaction; the ``+ 1µs`` makes
  the move strict even when the stored value lies in the future.
* ``timestamps_before_insert()`` (BEFORE INSERT, same tables): both columns default to
  ``now()``.  When a client supplies only one of them, the other still holds that default and can
  sit on the wrong side of the supplied value (e.g. an explicit ``created_at`` in the future); the
  trigger then aligns the defaulted column with the supplied one.  "Defaulted" is recognised as
  "equal to ``now()``"; when the client supplies both, nothing is changed and an inverted pair is
  rejected by the CHECK (SQLSTATE 23514), exactly as the model rejects it.
* ``created_at_immutable()`` (BEFORE UPDATE, messages, which have no ``updated_at``).

On the ORM side, ``None`` means "let the database fill it" (the ORM omits None for a column with a
server default), ``eager_defaults`` fetches the values with RETURNING, and a ``before_update``
listener (:func:`install_orm_guard`) drops client edits of these columns so the identity map holds
what the triggers stored.  An ORM flush whose only change is to a timestamp emits no UPDATE.

The same SQL is frozen into the Alembic revisions; ``tests/backend`` checks that ``create_all``
and ``alembic upgrade head`` install identical functions and triggers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlalchemy import (
    DDL,
    Connection,
    DateTime,
    FetchedValue,
    MetaData,
    Table,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapper
from sqlmodel import Field

__all__ = [
    "BEFORE_INSERT_FUNCTION",
    "BEFORE_UPDATE_FUNCTION",
    "CREATED_AT_IMMUTABLE_FUNCTION",
    "FUNCTION_NAMES",
    "UTCDateTime",
    "check_timestamp_order",
    "created_at_field",
    "install_created_at_trigger",
    "install_drop_functions",
    "install_orm_guard",
    "install_timestamp_triggers",
    "to_utc",
    "updated_at_field",
]

BEFORE_INSERT_FUNCTION = """\
CREATE OR REPLACE FUNCTION timestamps_before_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Both columns default to now(): a value equal to now() was (almost surely) defaulted.
    IF NEW.updated_at < NEW.created_at THEN
        IF NEW.updated_at = now() THEN
            NEW.updated_at := NEW.created_at;
        ELSIF NEW.created_at = now() THEN
            NEW.created_at := NEW.updated_at;
        END IF;
    END IF;
    RETURN NEW;
END;
$$"""

BEFORE_UPDATE_FUNCTION = """\
CREATE OR REPLACE FUNCTION timestamps_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := OLD.created_at;
    NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    RETURN NEW;
END;
$$"""

CREATED_AT_IMMUTABLE_FUNCTION = """\
CREATE OR REPLACE FUNCTION created_at_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.created_at := OLD.created_at;
    RETURN NEW;
END;
$$"""

#: Every function the schema owns, for DROP and for schema comparisons.
FUNCTION_NAMES: tuple[str, ...] = (
    "timestamps_before_insert",
    "timestamps_before_update",
    "created_at_immutable",
)


def to_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (a naive value is taken to be UTC already).

    Raises ``ValueError`` when the conversion leaves the range of ``datetime`` (e.g. year 1 at
    UTC+14), which PostgreSQL could store but Python could not read back.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


#: A datetime normalised to aware UTC (what ``timestamptz`` reads back on a UTC session).
UTCDateTime = Annotated[datetime, AfterValidator(to_utc)]


def _timestamp_field(description: str) -> Any:
    """Return a fresh SQLModel ``Field`` for a ``timestamptz NOT NULL DEFAULT now()`` column.

    ``None`` means "let the database fill it": the ORM omits a None value for a column with a
    server default.  ``server_onupdate=FetchedValue()`` tells the ORM that triggers rewrite the
    column on UPDATE, so it fetches the stored value instead of trusting its own.
    """
    return Field(
        default=None,
        description=description,
        sa_type=DateTime(timezone=True),
        nullable=False,
        sa_column_kwargs={"server_default": text("now()"), "server_onupdate": FetchedValue()},
    )


def created_at_field() -> Any:
    """Return the ``created_at`` field declaration (call once per table model)."""
    return _timestamp_field("Set by the database on INSERT when omitted; never changes.")


def updated_at_field() -> Any:
    """Return the ``updated_at`` field declaration (call once per table model)."""
    return _timestamp_field("Set by the database; moves forward on every UPDATE.")


def check_timestamp_order(created_at: datetime | None, updated_at: datetime | None) -> None:
    """Return None; raise ``ValueError`` if both are given and ``updated_at < created_at``."""
    if created_at is not None and updated_at is not None and updated_at < created_at:
        raise ValueError("updated_at must not be earlier than created_at")


def _trigger_ddl(table: Table, name: str, when: str, function: str) -> DDL:
    """Return the CREATE TRIGGER statement running ``function`` ``when`` on each row."""
    return DDL(
        f"CREATE TRIGGER {name} {when} ON {table.name} FOR EACH ROW EXECUTE FUNCTION {function}()"
    )


def install_timestamp_triggers(table: Table) -> None:
    """Attach the insert/update timestamp functions and triggers to ``table``'s CREATE.

    Returns None.  ``CREATE OR REPLACE`` makes the function DDL idempotent across tables.
    """
    event.listen(table, "after_create", DDL(BEFORE_INSERT_FUNCTION))
    event.listen(table, "after_create", DDL(BEFORE_UPDATE_FUNCTION))
    event.listen(
        table,
        "after_create",
        _trigger_ddl(
            table,
            f"{table.name}_timestamps_before_insert",
            "BEFORE INSERT",
            "timestamps_before_insert",
        ),
    )
    event.listen(
        table,
        "after_create",
        _trigger_ddl(
            table,
            f"{table.name}_timestamps_before_update",
            "BEFORE UPDATE",
            "timestamps_before_update",
        ),
    )


def install_created_at_trigger(table: Table) -> None:
    """Attach the ``created_at_immutable`` function and trigger to ``table``'s CREATE."""
    event.listen(table, "after_create", DDL(CREATED_AT_IMMUTABLE_FUNCTION))
    event.listen(
        table,
        "after_create",
        _trigger_ddl(
            table, f"{table.name}_created_at_immutable", "BEFORE UPDATE", "created_at_immutable"
        ),
    )


def install_drop_functions(metadata: MetaData) -> None:
    """Make ``metadata.drop_all`` drop the trigger functions after the tables. Returns None."""
    for name in FUNCTION_NAMES:
        event.listen(metadata, "after_drop", DDL(f"DROP FUNCTION IF EXISTS {name}()"))


def _discard_trigger_owned_changes(
    mapper: Mapper[Any], connection: Connection, target: Any
) -> None:
    """Expire client changes to trigger-owned columns before an ORM UPDATE is emitted.

    The triggers overwrite ``created_at``/``updated_at`` on every UPDATE anyway; expiring the
    pending change keeps the column out of the SET clause, so the ORM fetches the stored value
    (``server_onupdate=FetchedValue()`` with ``eager_defaults``) instead of believing its own.
    """
    state = inspect(target)
    changed = [
        key
        for key in ("created_at", "updated_at")
        if key in mapper.attrs and state.attrs[key].history.has_changes()
    ]
    if changed and state.session is not None:
        state.session.expire(target, changed)


def install_orm_guard(model: type[Any]) -> None:
    """Make ORM updates of ``model`` honour the timestamp triggers (see above). Returns None."""
    event.listen(model, "before_update", _discard_trigger_owned_changes)
