"""Alembic: upgrade/check/downgrade round trips build exactly the models' schema."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy.engine import URL

from backend.app.models import metadata

from ._support import ALEMBIC_INI, alembic_config, catalog, migrate


def _snapshot(url: URL) -> dict[str, list[tuple[Any, ...]]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return catalog(connection)
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade_from_empty(schemafuzz_fresh_db_url: URL) -> None:
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.begin() as connection:
            command.check(alembic_config(connection))  # raises if the models differ
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        after_base = _snapshot(schemafuzz_fresh_db_url)
        assert after_base == {
            "columns": [],
            "constraints": [],
            "indexes": [],
            "enums": [],
            "triggers": [],
            "functions": [],
        }
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        with engine.begin() as connection:
            command.check(alembic_config(connection))
        tables = set(sa.inspect(engine).get_table_names())
        assert tables == {"users", "tasks", "conversations", "messages", "alembic_version"}
    finally:
        engine.dispose()


def test_check_detects_a_difference(schemafuzz_fresh_db_url: URL) -> None:
    """``alembic check`` is not vacuous: a dropped index is reported."""
    migrate(schemafuzz_fresh_db_url, "upgrade", "head")
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP INDEX ix_tasks_user_id_completed")
        with engine.begin() as connection, pytest.raises(CommandError, match="add_index"):
            command.check(alembic_config(connection))
    finally:
        engine.dispose()


def test_each_downgrade_reverses_its_upgrade(schemafuzz_fresh_db_url: URL) -> None:
    empty = _snapshot(schemafuzz_fresh_db_url)
    migrate(schemafuzz_fresh_db_url, "upgrade", "0001")
    at_0001 = _snapshot(schemafuzz_fresh_db_url)
    assert {row[0] for row in at_0001["columns"]} == {"users", "tasks"}
    assert sorted(row[0] for row in at_0001["functions"]) == [
        "timestamps_before_insert",
        "timestamps_before_update",
    ]
    migrate(schemafuzz_fresh_db_url, "upgrade", "0002")
    at_0002 = _snapshot(schemafuzz_fresh_db_url)
    assert at_0002["enums"] == [("message_role", "user,assistant")]
    migrate(schemafuzz_fresh_db_url, "downgrade", "0001")
    assert _snapshot(schemafuzz_fresh_db_url) == at_0001
    migrate(schemafuzz_fresh_db_url, "downgrade", "base")
    assert _snapshot(schemafuzz_fresh_db_url) == empty


def test_create_all_and_upgrade_head_build_the_same_schema(schemafuzz_server: Any) -> None:
    migrated, created = schemafuzz_server.create_database(), schemafuzz_server.create_database()
    try:
        migrate(migrated, "upgrade", "head")
        engine = sa.create_engine(created)
        try:
            metadata.create_all(engine)
        finally:
            engine.dispose()
        by_migrations, by_metadata = _snapshot(migrated), _snapshot(created)
        assert by_migrations == by_metadata
        # and the comparison covers what matters
        assert len(by_metadata["triggers"]) == 7
        assert len(by_metadata["functions"]) == 3
        assert any(row[1] == "ck_tasks_title_not_blank" for row in by_metadata["constraints"])
    finally:
        schemafuzz_server.drop_database(migrated)
        schemafuzz_server.drop_database(created)


def test_drop_all_removes_tables_types_and_functions(schemafuzz_fresh_db_url: URL) -> None:
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        metadata.create_all(engine)
        metadata.drop_all(engine)
        with engine.connect() as connection:
            left = catalog(connection)
        assert all(rows == [] for rows in left.values()), left
    finally:
        engine.dispose()


def test_offline_sql_renders_without_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    """``alembic upgrade head --sql`` works from the URL alone (no connection)."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logger"] = False
    config.set_main_option("sqlalchemy.url", "postgresql://nobody@localhost/nowhere")
    command.upgrade(config, "head", sql=True)
    out = capsys.readouterr().out
    assert "CREATE TYPE message_role AS ENUM ('user', 'assistant')" in out
    assert "CREATE TRIGGER tasks_timestamps_before_update" in out


def test_url_can_be_passed_through_the_config(schemafuzz_fresh_db_url: URL) -> None:
    """``config.set_main_option("sqlalchemy.url", ...)`` targets that database, not the env."""
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logger"] = False
    raw = schemafuzz_fresh_db_url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", raw.replace("%", "%%"))
    command.upgrade(config, "head")
    command.check(config)
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        with engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            assert version.scalar_one() == "0002"
    finally:
        engine.dispose()
