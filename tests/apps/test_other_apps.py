"""`pytest properties --models ... --alembic-ini ...` runs on apps that are not ours, with no
code of ours changed: green on the two example apps, red on their broken variants, with the
difference and the revision named.

The library's env.py reads its own setting (LIBRARY_DATABASE_URL), as real projects' do: it runs
with ``--alembic-env suite`` (its revisions, the suite's env.py). The shop's env.py follows
Alembic's connection-sharing recipe and runs as it is."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from .conftest import run_properties

MIGRATIONS = "test_migrations.py"
# The broken variants differ from the good apps in one revision; their history is sound, so
# only the properties comparing models and schema run (and fail).
COMPARISONS = ("-k", "schema_equals_models or model_definitions_match_ddl")


def _output(result: Any) -> str:
    return str(result.stdout + result.stderr)


@pytest.mark.parametrize("app", ["library", "shop"])
def test_apps_keep_their_own_metadata(app: str) -> None:
    models = importlib.import_module(f"tests.apps.{app}.models")
    assert models.metadata is not SQLModel.metadata
    assert set(models.metadata.tables).isdisjoint(SQLModel.metadata.tables)


def test_shop_passes_the_migration_properties_with_its_own_env(tmp_path: Path,
                                                               pg_server: Any) -> None:
    result = run_properties(tmp_path, pg_server, "shop", "alembic.ini", target=MIGRATIONS)
    assert result.returncode == 0, _output(result)
    assert "failed" not in result.stdout and " passed" in result.stdout
    # Every named migration property ran, per revision where it is per revision.
    assert "downgrade shop_0001:" in result.stdout and "downgrade shop_0002:" in result.stdout


def test_shop_without_not_null_is_caught(tmp_path: Path, pg_server: Any) -> None:
    result = run_properties(tmp_path, pg_server, "shop", "alembic_bad.ini", *COMPARISONS,
                            target=MIGRATIONS)
    assert result.returncode == 1, _output(result)
    assert "FAILED " in result.stdout and "::test_schema_equals_models" in result.stdout
    assert ("products.name: nullability differs: models has NOT NULL, migrations has NULL "
            "[revision shop_0003_bad (products.name nullable") in result.stdout
    assert "2 failed" in result.stdout and "passed" not in result.stdout, result.stdout


def test_library_passes_with_the_suite_env(tmp_path: Path, pg_server: Any) -> None:
    result = run_properties(tmp_path, pg_server, "library", "alembic.ini",
                            "--alembic-env", "suite", target=MIGRATIONS)
    assert result.returncode == 0, _output(result)
    assert "failed" not in result.stdout and " passed" in result.stdout
    assert "downgrade lib_0002:" in result.stdout


def test_library_title_as_text_is_caught(tmp_path: Path, pg_server: Any) -> None:
    result = run_properties(tmp_path, pg_server, "library", "alembic_bad.ini",
                            "--alembic-env", "suite", *COMPARISONS, target=MIGRATIONS)
    assert result.returncode == 1, _output(result)
    assert "::test_schema_equals_models" in result.stdout
    assert "books.title" in result.stdout and "[revision lib_0003_bad" in result.stdout
    assert "2 failed" in result.stdout and "passed" not in result.stdout, result.stdout


def test_library_own_env_needs_its_setting_which_the_suite_env_replaces(
        tmp_path: Path, pg_server: Any) -> None:
    result = run_properties(tmp_path, pg_server, "library", "alembic.ini",
                            "-k", "upgrade_head_from_empty", target=MIGRATIONS)
    assert result.returncode == 1, _output(result)
    assert "LIBRARY_DATABASE_URL" in result.stdout


CONSTRAINTS = "test_constraints.py"


@pytest.mark.parametrize(("app", "env"), [("shop", ()), ("library", ("--alembic-env", "suite"))])
def test_generic_constraint_properties_pass_on_the_good_apps(
        tmp_path: Path, pg_server: Any, app: str, env: tuple[str, ...]) -> None:
    result = run_properties(tmp_path, pg_server, app, "alembic.ini", *env, target=CONSTRAINTS)
    assert result.returncode == 0, _output(result)[-4000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize(
    ("app", "env", "selection", "finding"),
    [("shop", (), "violations and products.name:NOT", "FINDING products.name [NOT NULL"),
     ("library", ("--alembic-env", "suite"), "violations and books.title:varchar",
      "FINDING books.title [varchar(200)")],
)
def test_generic_constraint_properties_catch_the_broken_variants(
        tmp_path: Path, pg_server: Any, app: str, env: tuple[str, ...], selection: str,
        finding: str) -> None:
    result = run_properties(tmp_path, pg_server, app, "alembic_bad.ini", *env, "-k", selection,
                            target=CONSTRAINTS)
    assert result.returncode == 1, _output(result)[-4000:]
    assert finding in result.stdout, _output(result)[-4000:]
