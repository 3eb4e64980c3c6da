"""Apps whose own code reaches for DATABASE_URL: the suite never touches that database.

``dburl_env``'s env.py builds its own engine from DATABASE_URL (six of six public backends
tried do so); ``connects_at_import``'s settings open a connection when imported. DATABASE_URL
points at a "production" database holding the app's tables and rows, on the very server the
suite is given with ``--schemafuzz-db-url``. With either Alembic env, that database is
byte-identical after the run; the default (suite) env runs the app green; its own env ends the run
with one line naming the file and line that tried. The runs start outside the app's folder, so the
apps' relative ``script_location`` must be read from the ini's folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from schemafuzz.harness import DatabaseFactory
from schemafuzz.migrations import MigrationRunner
from tests.harness.conftest import pg_dump

from .conftest import ACCEPTED_UNGUARDED

ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent
DBURL_ENV = APPS / "dburl_env"
CONNECTS = APPS / "connects_at_import"


def _production(schemafuzz_server: DatabaseFactory, name: str, ini: Path, rows: list[str]) -> URL:
    """A database that is not the suite's (no marker), with the app's schema and rows."""
    admin = sa.create_engine(schemafuzz_server.admin_url, isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = schemafuzz_server.admin_url.set(database=name)
    runner = MigrationRunner(ini, url)
    runner.upgrade("head")
    runner.dispose()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for statement in rows:
            conn.exec_driver_sql(statement)
    engine.dispose()
    return url


def _drop(schemafuzz_server: DatabaseFactory, url: URL) -> None:
    admin = sa.create_engine(schemafuzz_server.admin_url, isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def notes_production(schemafuzz_server: DatabaseFactory) -> Iterator[URL]:
    url = _production(schemafuzz_server, f"prod_notes_{os.getpid()}", DBURL_ENV / "alembic.ini", [
        "INSERT INTO notebooks (title) SELECT 'book ' || g FROM generate_series(1, 50) g",
        "INSERT INTO notes (notebook_id, body) SELECT 1 + g %% 50, 'note ' || g "
        "FROM generate_series(1, 500) g",
    ])
    yield url
    _drop(schemafuzz_server, url)


@pytest.fixture
def eager_production(schemafuzz_server: DatabaseFactory) -> Iterator[URL]:
    url = _production(schemafuzz_server, f"prod_eager_{os.getpid()}", CONNECTS / "alembic.ini", [
        "INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 200) g",
    ])
    yield url
    _drop(schemafuzz_server, url)


def _run(tmp_path: Path, schemafuzz_server: DatabaseFactory, app: Path, models: str, database: URL,
         *args: str) -> subprocess.CompletedProcess[str]:
    """``pytest properties/test_migrations.py properties/test_constraints.py`` on the app, from
    ``tmp_path`` (not the app's folder), with DATABASE_URL at ``database`` (a password in it)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(app)])
    env["SCHEMAFUZZ_EXAMPLES_DIR"] = str(tmp_path / "examples")
    env["DATABASE_URL"] = database.set(password="prod-password").render_as_string(
        hide_password=False)
    admin = schemafuzz_server.admin_url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "properties" / "test_migrations.py"),
         str(ROOT / "properties" / "test_constraints.py"), "-q", "-rfEs", "--tb=line",
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path),
         "--schemafuzz-db-url", admin, "--schemafuzz-models", models,
         "--schemafuzz-alembic-ini", str(app / "alembic.ini"),
         *(["--schemafuzz-accept-unguarded", ACCEPTED_UNGUARDED[models]]
           if models in ACCEPTED_UNGUARDED else []), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600, check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode not in (0, 1), output  # a usage error, not tests that ran
    assert "Traceback" not in output and "prod-password" not in output, output
    lines = [line for line in output.splitlines() if "schemafuzz: " in line]
    assert lines, output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_an_env_py_on_database_url_runs_green_with_the_default_env(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, notes_production: URL) -> None:
    before = pg_dump(notes_production)
    result = _run(tmp_path, schemafuzz_server, DBURL_ENV, "notes.models", notes_production)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert " passed" in result.stdout and "failed" not in result.stdout, output[-4000:]
    assert "downgrade notes_0002:" in result.stdout  # the revisions did run, on the suite's db
    assert pg_dump(notes_production) == before


def test_an_env_py_on_database_url_is_stopped_with_the_project_env(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, notes_production: URL) -> None:
    before = pg_dump(notes_production)
    result = _run(tmp_path, schemafuzz_server, DBURL_ENV, "notes.models", notes_production,
                  "--schemafuzz-alembic-env", "project")
    env_py = DBURL_ENV / "migrations" / "env.py"
    line = _one_line(
        result,
        f"{env_py}:{_line_of(env_py, 'connectable.connect()')} opens its own connection to "
        f"postgresql://postgres:***@127.0.0.1:{schemafuzz_server.admin_url.port}/"
        f"{notes_production.database}; use the suite's env (the default) or make env.py use "
        "config.attributes['connection']",
    )
    assert line
    assert pg_dump(notes_production) == before


@pytest.mark.parametrize("env", ["suite", "project"])
def test_settings_connecting_at_import_end_the_run_before_reaching_it(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, eager_production: URL,
        env: str) -> None:
    before = pg_dump(eager_production)
    result = _run(tmp_path, schemafuzz_server, CONNECTS, "eagerapp.models", eager_production,
                  "--schemafuzz-alembic-env", env)
    db_py = CONNECTS / "eagerapp" / "db.py"
    _one_line(result, f"{db_py}:{_line_of(db_py, 'engine.connect()')} tried to connect to "
              f"postgresql://postgres:***@127.0.0.1:{schemafuzz_server.admin_url.port}/"
              f"{eager_production.database}")
    assert pg_dump(eager_production) == before


ASYNC_ENV = APPS / "async_env"


@pytest.mark.parametrize("env", ["suite", "project"])
def test_an_async_project_runs_through_the_suite_env(tmp_path: Path,
                                                     schemafuzz_server: DatabaseFactory,
                                                     env: str) -> None:
    # The app's URL says asyncpg at a host named `db`; its env.py needs an event loop and
    # SQLAlchemy's asyncio extension. None of that is needed for the suite's env.
    result = _run(tmp_path, schemafuzz_server, ASYNC_ENV, "tracker.models",
                  schemafuzz_server.admin_url.set(database="tracker"), "--schemafuzz-alembic-env",
                  env)
    output = result.stdout + result.stderr
    if env == "suite":
        assert result.returncode == 0, output[-4000:]
        assert " passed" in result.stdout and "failed" not in result.stdout, output[-4000:]
        return
    line = _one_line(result, str(ASYNC_ENV / "migrations" / "env.py"))
    assert "suite's env" in line, line
