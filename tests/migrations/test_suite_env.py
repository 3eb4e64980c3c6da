"""`--schemafuzz-alembic-env suite` (the default): a project's revisions with the suite's env.py
(no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from schemafuzz.migrations import SUITE_ENV_DIR, MigrationRunner, parse_alembic_env

APPS = Path(__file__).resolve().parents[1] / "apps"
URL = make_url("postgresql+psycopg2://nobody@127.0.0.1:1/none")


def test_suite_env_keeps_the_project_revisions() -> None:
    runner = MigrationRunner(APPS / "library" / "alembic.ini", URL, env="suite")
    assert Path(runner.script.dir) == SUITE_ENV_DIR
    assert runner.revisions() == ["lib_0001", "lib_0002"]
    assert runner.config().get_main_option("prepend_sys_path") is None


def test_suite_env_keeps_every_version_location() -> None:
    runner = MigrationRunner(APPS / "library" / "alembic_bad.ini", URL, env="suite")
    assert runner.revisions() == ["lib_0001", "lib_0002", "lib_0003_bad"]
    project = MigrationRunner(APPS / "library" / "alembic_bad.ini", URL, env="project")
    assert Path(project.script.dir) == APPS / "library" / "migrations"
    assert project.revisions() == runner.revisions()


def test_suite_env_hands_target_metadata_to_env_py() -> None:
    from tests.apps.library.models import metadata

    runner = MigrationRunner(APPS / "library" / "alembic.ini", URL, env="suite",
                             target_metadata=metadata)
    assert runner.config().attributes["target_metadata"] is metadata
    assert runner.on(make_url("postgresql://elsewhere/db")).target_metadata is metadata


def test_alembic_env_values() -> None:
    assert parse_alembic_env(None) == "suite" and parse_alembic_env("project") == "project"
    assert MigrationRunner(APPS / "library" / "alembic.ini", URL).env == "suite"
    with pytest.raises(ValueError, match=r"use suite .* or project"):
        parse_alembic_env("mine")
