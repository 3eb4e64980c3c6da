"""Fixtures for the backend tests, built on the contract fixtures ``schemafuzz_server`` and
``schemafuzz_fresh_db_url``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from backend.app.database import create_db_engine

from ._support import migrate


@pytest.fixture(scope="module")
def migrated_engine(schemafuzz_server: Any) -> Iterator[sa.Engine]:
    """Return an engine on a module-private database built by ``alembic upgrade head``."""
    url = schemafuzz_server.create_database()
    try:
        migrate(url, "upgrade", "head")
        engine = create_db_engine(url)
        yield engine
        engine.dispose()
    finally:
        schemafuzz_server.drop_database(url)


@pytest.fixture
def conn(migrated_engine: sa.Engine) -> Iterator[sa.Connection]:
    """Return a connection to the migrated database inside a transaction rolled back after."""
    with migrated_engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()
