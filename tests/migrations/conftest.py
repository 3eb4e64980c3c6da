"""Fixtures for the migration machinery's own tests: throwaway projects on fresh databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from schemafuzz.migrations import (
    Difference,
    MigrationRunner,
    compare_schema,
    create_models_schema,
)
from tests.migrations.project import Project, models_metadata, write_project


@pytest.fixture
def make_runner(schemafuzz_server: Any) -> Iterator[Callable[[Project], MigrationRunner]]:
    """Return a factory: project -> MigrationRunner on a new empty database (dropped after)."""
    made: list[MigrationRunner] = []

    def make(project: Project) -> MigrationRunner:
        runner = MigrationRunner(project.ini, schemafuzz_server.create_database())
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.dispose()
        schemafuzz_server.drop_database(runner.url)


@pytest.fixture
def project_factory(tmp_path: Path) -> Callable[..., Project]:
    """Return ``write_project`` bound to a new folder under tmp_path per call."""
    counter = iter(range(1000))

    def make(**kwargs: Any) -> Project:
        return write_project(tmp_path / f"project{next(counter)}", **kwargs)

    return make


@pytest.fixture
def schema_differences(schemafuzz_server: Any) -> Callable[[MigrationRunner], list[Difference]]:
    """Return a function: runner (any state) -> differences between head and the models."""

    def run(runner: MigrationRunner) -> list[Difference]:
        metadata = models_metadata()
        runner.upgrade("head")
        url = schemafuzz_server.create_database()
        try:
            create_models_schema(url, metadata)
            engine = sa.create_engine(url, poolclass=NullPool)
            try:
                with runner.connect() as migrated, engine.connect() as models_db:
                    return compare_schema(migrated, models_db, metadata)
            finally:
                engine.dispose()
        finally:
            schemafuzz_server.drop_database(url)

    return run
