"""Alembic environment for the reference backend.

Where the database is, first match wins:
1. ``config.attributes["connection"]``: an open ``sqlalchemy.Connection`` supplied by the
   caller (the test suite runs migrations programmatically this way);
2. ``sqlalchemy.url`` set by the caller with ``config.set_main_option("sqlalchemy.url", url)``
   (escape ``%`` as ``%%``: the ini parser interpolates);
3. ``DATABASE_URL`` from the environment or ``backend/.env``.
Nothing is hard-coded.  Every URL goes through the same checks as the application (PostgreSQL,
SSL for remote hosts); a bad one stops the command with a one-line error and no password.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from backend.app.config import DatabaseConfigError, get_settings, parse_database_url
from backend.app.database import create_db_engine
from backend.app.models import metadata

config = context.config

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def _database_url() -> URL:
    """Return the checked URL to migrate; raise ``CommandError`` (one line) when unusable."""
    try:
        explicit = config.get_main_option("sqlalchemy.url")
        if explicit:
            return parse_database_url(explicit, variable="sqlalchemy.url")
        return get_settings().url
    except DatabaseConfigError as error:
        raise CommandError(str(error)) from None


def _run(connection: Connection) -> None:
    """Configure the migration context on ``connection`` and run the migrations."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit the migration SQL to stdout (``alembic upgrade head --sql``) without connecting."""
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the caller's connection, or on a short-lived engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(_database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
