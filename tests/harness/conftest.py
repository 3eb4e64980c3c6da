"""Helpers for the harness's own tests: a user's database to protect, and pytest in a child."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL

from bench._schema_variants import reference_pyproject
from schemafuzz.harness import DatabaseFactory, provision
from schemafuzz.harness.binaries import find_server_bindir
from schemafuzz.harness.databases import suite_database_names

ROOT = Path(__file__).resolve().parents[2]


def child_project(workdir: Path, source: str) -> dict[str, str]:
    """Make ``workdir`` a project testing the reference backend the way this repository does
    (a pyproject.toml with its ``[tool.schemafuzz]`` table, ``source`` as ``test_child.py``)
    and return the environment a child pytest runs in there (``backend`` importable)."""
    (workdir / "test_child.py").write_text(source)
    reference_pyproject(workdir)
    child_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
    child_env["PYTHONPATH"] = str(ROOT)
    return child_env


def run_pytest(workdir: Path, source: str, *args: str, timeout: float = 180,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Write ``source`` as a test module in ``workdir`` (a :func:`child_project`) and run
    pytest on it in a child."""
    child_env = {**child_project(workdir, source), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "test_child.py", "-q", "-p", "no:cacheprovider", *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=child_env,
    )


def admin_text(url: URL) -> str:
    """The URL as a string a child process can take on its command line."""
    return url.render_as_string(hide_password=False)


def suite_databases(admin_url: URL) -> set[str]:
    """Names of every ``schemafuzz_*`` database on the server."""
    return suite_database_names(admin_url)


def pg_dump(url: URL) -> str:
    """A plain-text dump (schema and data) of the database at ``url``."""
    bindir = find_server_bindir()
    assert bindir is not None
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run([str(bindir / "pg_dump"), "--no-owner", "-d", conninfo],
                            capture_output=True, text=True, check=True, timeout=60)
    # pg_dump >= 15.14 wraps the dump in \restrict/\unrestrict lines with a random key.
    return "\n".join(line for line in result.stdout.splitlines()
                     if not line.startswith(("\\restrict", "\\unrestrict")))


@pytest.fixture
def isolated_server(schemafuzz_server: DatabaseFactory) -> Iterator[DatabaseFactory]:
    """The server for a test that counts every suite database on it: ``schemafuzz_server`` when the
    tests run serially; under pytest-xdist, where the other worker creates and drops databases
    on the shared server meanwhile, a throwaway server of the test's own (removed after it)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield schemafuzz_server
        return
    provisioned = provision(None)
    try:
        yield provisioned.factory
    finally:
        provisioned.close()


@pytest.fixture
def user_database(isolated_server: DatabaseFactory) -> Iterator[URL]:
    """A database that is *not* the suite's (no marker, not schemafuzz_*), holding rows, as a
    user's production copy would; dropped by this fixture at the end."""
    name = f"userdata_{os.getpid()}"
    admin = sa.create_engine(isolated_server.admin_url, isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = isolated_server.admin_url.set(database=name)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL)")
        conn.exec_driver_sql(
            "INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 500) g")
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
