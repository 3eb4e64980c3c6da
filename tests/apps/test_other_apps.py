"""`pytest properties --schemafuzz-models ... --schemafuzz-alembic-ini ...` runs on apps that are
not ours, with no code of ours changed: green on the two example apps, red on their broken
variants, with the difference and the revision named.

The library's env.py reads its own setting (LIBRARY_DATABASE_URL), as real projects' do: its
revisions run through the suite's env.py, the default. The shop's env.py follows Alembic's
connection-sharing recipe and also runs as it is (``--schemafuzz-alembic-env project``)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import SQLModel

from .conftest import failed_tests, run_properties

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


@pytest.mark.parametrize("env", ["suite", "project"])
def test_shop_passes_the_migration_properties_with_either_env(tmp_path: Path,
                                                              schemafuzz_server: Any,
                                                              env: str) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "shop", "alembic.ini",
                            "--schemafuzz-alembic-env", env, target=MIGRATIONS)
    assert result.returncode == 0, _output(result)
    assert "failed" not in result.stdout and " passed" in result.stdout
    # Every named migration property ran, per revision where it is per revision.
    assert "downgrade shop_0001:" in result.stdout and "downgrade shop_0002:" in result.stdout


def test_shop_without_not_null_is_caught(tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "shop", "alembic_bad.ini",
                            "--schemafuzz-alembic-env", "project", *COMPARISONS,
                            target=MIGRATIONS)
    assert result.returncode == 1, _output(result)
    assert "FAILED " in result.stdout and "::test_schema_equals_models" in result.stdout
    assert ("products.name: nullability differs: models has NOT NULL, migrations has NULL "
            "[revision shop_0003_bad (products.name nullable") in result.stdout
    assert "2 failed" in result.stdout and "passed" not in result.stdout, result.stdout


def test_library_passes_with_the_suite_env(tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "library", "alembic.ini",
                            target=MIGRATIONS)
    assert result.returncode == 0, _output(result)
    assert "failed" not in result.stdout and " passed" in result.stdout
    assert "downgrade lib_0002:" in result.stdout


def test_library_title_as_text_is_caught(tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "library", "alembic_bad.ini", *COMPARISONS,
                            target=MIGRATIONS)
    assert result.returncode == 1, _output(result)
    assert "::test_schema_equals_models" in result.stdout
    assert "books.title" in result.stdout and "[revision lib_0003_bad" in result.stdout
    assert "2 failed" in result.stdout and "passed" not in result.stdout, result.stdout


def test_library_own_env_needs_its_setting_which_the_suite_env_replaces(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "library", "alembic.ini",
                            "--schemafuzz-alembic-env", "project", target=MIGRATIONS)
    output = _output(result)
    assert result.returncode == 4, output  # one usage line, no test failures
    lines = [line for line in output.splitlines() if "schemafuzz: " in line]
    assert len(lines) == 1 and "Traceback" not in output, output
    assert "library/migrations/env.py: KeyError: 'LIBRARY_DATABASE_URL'" in lines[0], lines[0]
    assert "the suite's env, the default, runs your revisions without it" in lines[0]


CONSTRAINTS = "test_constraints.py"


@pytest.mark.parametrize(("app", "env"), [("shop", ("--schemafuzz-alembic-env", "project")),
                                          ("library", ())])
def test_generic_constraint_properties_pass_on_the_good_apps(
        tmp_path: Path, schemafuzz_server: Any, app: str, env: tuple[str, ...]) -> None:
    result = run_properties(tmp_path, schemafuzz_server, app, "alembic.ini", *env,
                            target=CONSTRAINTS)
    assert result.returncode == 0, _output(result)[-4000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


@pytest.mark.parametrize(
    ("app", "env", "selection", "finding"),
    [("shop", ("--schemafuzz-alembic-env", "project"), "violations and products.name:NOT",
      "FINDING products.name [NOT NULL"),
     ("library", (), "violations and books.title:varchar", "FINDING books.title [varchar(200)")],
)
def test_generic_constraint_properties_catch_the_broken_variants(
        tmp_path: Path, schemafuzz_server: Any, app: str, env: tuple[str, ...], selection: str,
        finding: str) -> None:
    result = run_properties(tmp_path, schemafuzz_server, app, "alembic_bad.ini", *env, "-k",
                            selection,
                            target=CONSTRAINTS)
    assert result.returncode == 1, _output(result)[-4000:]
    assert finding in result.stdout, _output(result)[-4000:]


def test_a_check_only_a_migration_adds_is_broken_and_reported_once_with_its_layer(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    """shop_0003_sku adds CHECK (char_length(sku) >= 4), which the models do not declare: the
    suite reads it from the live catalogue, breaks it with violating rows, and reports that
    the model accepts what the database refuses, naming the one layer that has the rule. It is
    one failure: the valid rows and the setup rows of every other property keep the rule, and
    the model's own min_length=1 on sku, which no value breaks alone there, is not tried."""
    result = run_properties(tmp_path, schemafuzz_server, "shop", "alembic_db_rules.ini",
                            "--schemafuzz-alembic-env", "project", target=CONSTRAINTS)
    output = _output(result)
    assert result.returncode == 1, output[-4000:]
    assert failed_tests(result) == {
        "test_database_only_constraints_are_refused_with_their_sqlstate[products]"}, \
        output[-6000:]
    assert "products.id,sku" not in result.stdout and "blocked by" not in result.stdout, \
        output[-4000:]
    assert "products.sku Field(min_length=1): no value breaks it alone in the schema under " \
        "test" in result.stdout, output[-4000:]
    # That skip is located at the test it skips, not at the helper that raised it.
    assert "test_constraints.py:" in result.stdout and "live_rows.py" not in result.stdout, \
        output[-4000:]
    entries = json.loads((tmp_path / ".schemafuzz" / "partial" / "coverage.json").read_text())
    [entry] = [e for e in entries if e["rule"] == "ck_products_sku_min_length"]
    assert (entry["table"], entry["column"], entry["kind"]) == ("products", "sku", "check")
    assert entry["layers"] == ["database"] and entry["violations"] > 0, entry
    assert entry["findings"] == [
        "PostgreSQL refuses it (SQLSTATE 23514) but Model.model_validate accepts it; fix: in the "
        "model, Field(min_length=4) on products.sku; or, if the model is right, in a migration, "
        "op.drop_constraint('ck_products_sku_min_length', 'products', type_='check')"], entry
    # Serial keys' nextval defaults are not rules of their own.
    assert not [e for e in entries if e["kind"] == "server_default"], entries


def test_rows_a_later_check_refuses_are_one_readable_finding_per_test(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    """Rows valid at shop_0002 break shop_0003_sku's CHECK: the data-preservation property of
    shop_0002 fails naming the rows' table, the CHECK, its SQLSTATE and the revision, and the
    schema comparison names the CHECK; each failure is its message and the test's line, with
    pytest's default traceback style, not a traceback through Alembic and SQLAlchemy."""
    result = run_properties(tmp_path, schemafuzz_server, "shop", "alembic_db_rules.ini",
                            "--schemafuzz-alembic-env", "project", "--tb=auto",
                            target=MIGRATIONS)
    output = _output(result)
    assert result.returncode == 1, output[-4000:]
    assert failed_tests(result) == {"test_schema_equals_models",
                                    "test_data_preservation[shop_0002]"}, output[-4000:]
    assert "of products generated at revision shop_0002" in result.stdout, output[-4000:]
    assert ('upgrade of revision shop_0003_sku (products.sku of at least four characters'
            in result.stdout), output[-4000:]
    assert ('check constraint "ck_products_sku_min_length" of relation "products" is violated '
            'by some row (SQLSTATE 23514)') in result.stdout, output[-4000:]
    assert "CHECK constraint 'ck_products_sku_min_length' only in migrations" in result.stdout
    assert "test_migrations.py:" in result.stdout, output[-4000:]
    for noise in ("object at 0x", "site-packages", "Traceback", "def test_"):
        assert noise not in result.stdout, (noise, output[-6000:])


def test_the_generic_machine_keeps_a_check_only_a_migration_adds_in_its_violations(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    """The machine's violating rows keep every other rule of the schema under test: a row
    breaking products.sku's NOT NULL or a key with a three-character sku besides would be
    refused for ck_products_sku_min_length, and reported against the wrong rule."""
    result = run_properties(tmp_path, schemafuzz_server, "shop", "alembic_db_rules.ini",
                            "--schemafuzz-alembic-env", "project", "--hypothesis-seed=0",
                            "--tb=short", target="test_stateful.py")
    output = _output(result)
    assert result.returncode == 0, output[-8000:]
    assert "1 passed" in result.stdout, output[-4000:]
