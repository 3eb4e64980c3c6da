"""The schemafuzz pytest plugin: command-line options, Hypothesis profiles and the fixtures
that give every property a real PostgreSQL with the schema under test.

Loaded automatically (``pytest11`` entry point) once the package is installed. Fixtures:

- ``pg_server`` (session): a ``DatabaseFactory`` (``create_database()``, ``drop_database(url)``,
  ``admin_url``) on the throwaway server, or on the ``--db-url`` server.
- ``fresh_db_url`` (function): URL of a new empty database, dropped after the test.
- ``models_module`` / ``target_metadata`` / ``alembic_ini`` / ``schema_spec`` (session): what
  is under test, from ``--models``, ``--alembic-ini`` and ``--schema``.
- ``schema_db_url`` / ``schema_engine`` (session): a database holding the schema under test.
- ``db`` (function): a ``Sandbox`` on ``schema_engine``; rolled back after the test, and after
  every Hypothesis example when the test is a ``@given`` test.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlmodel import SQLModel

from properties.harness import (
    DatabaseFactory,
    HarnessError,
    Provisioned,
    Sandbox,
    SchemaSpec,
    build_schema,
    choose_profile,
    parse_schema_option,
    provision,
    register_profiles,
)

__all__ = ["PROVISIONED_KEY"]

PROVISIONED_KEY = pytest.StashKey[Provisioned]()
_PROFILE_KEY = pytest.StashKey[str]()

register_profiles()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("schemafuzz", "schema fuzzing against PostgreSQL")
    group.addoption(
        "--db-url", default=None, metavar="URL",
        help="use this PostgreSQL server (the suite creates and drops its own database there; "
        "default: $SCHEMAFUZZ_DATABASE_URL, else a throwaway server started for the run)",
    )
    group.addoption("--models", default=None, metavar="MODULE",
                    help="module that defines the SQLModel models (default backend.app.models)")
    group.addoption("--alembic-ini", default=None, metavar="PATH",
                    help="alembic.ini of the app under test (default backend/alembic.ini)")
    group.addoption("--schema", default=None, metavar="HOW",
                    help="how to build the schema under test: migrations (default), metadata "
                    "(create_all) or sql:PATH (e.g. a pg_dump --schema-only)")


def _abort(error: HarnessError) -> NoReturn:
    pytest.exit(f"schemafuzz: {error}", returncode=pytest.ExitCode.USAGE_ERROR)


@contextmanager
def _setup_errors_end_the_run() -> Iterator[None]:
    """Turn a HarnessError into one clean line that ends the run (no traceback per test)."""
    try:
        yield
    except HarnessError as error:
        _abort(error)


def pytest_configure(config: pytest.Config) -> None:
    from hypothesis import settings

    option = config.getoption("hypothesis_profile", default=None)
    profile = choose_profile(option)
    try:
        settings.load_profile(profile)
    except Exception:
        raise pytest.UsageError(
            f"unknown Hypothesis profile {profile!r}: use dev, ci or nightly"
        ) from None
    config.stash[_PROFILE_KEY] = profile


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"schemafuzz: profile={config.stash.get(_PROFILE_KEY, '?')} "
        f"models={_models_name(config)} schema={config.getoption('schema') or 'migrations'} "
        f"server={'--db-url' if _db_url(config) else 'throwaway'}"
    ]


def _db_url(config: pytest.Config) -> str | None:
    value = config.getoption("db_url") or os.environ.get("SCHEMAFUZZ_DATABASE_URL")
    return str(value) if value else None


def _models_name(config: pytest.Config) -> str:
    return str(config.getoption("models") or "backend.app.models")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    provisioned = config.stash.get(PROVISIONED_KEY, None)
    if provisioned is not None:
        terminalreporter.write_sep("-", "schemafuzz")
        terminalreporter.write_line(f"server: {provisioned.description}")
        if provisioned.stale_dropped:
            terminalreporter.write_line(
                f"dropped stale databases of crashed runs: {', '.join(provisioned.stale_dropped)}"
            )


def pytest_unconfigure(config: pytest.Config) -> None:
    # Fixture teardown normally closes the server; this catches runs that ended before it.
    provisioned = config.stash.get(PROVISIONED_KEY, None)
    if provisioned is not None:
        provisioned.close()


@pytest.fixture(scope="session")
def pg_server(pytestconfig: pytest.Config) -> Iterator[DatabaseFactory]:
    """The server the suite creates its databases on (see module docstring)."""
    with _setup_errors_end_the_run():
        provisioned = provision(_db_url(pytestconfig))
    pytestconfig.stash[PROVISIONED_KEY] = provisioned
    try:
        yield provisioned.factory
    finally:
        leftovers = provisioned.close()
        if leftovers:
            print(f"schemafuzz: could not drop {', '.join(leftovers)}; the next run drops them")


@pytest.fixture
def fresh_db_url(pg_server: DatabaseFactory) -> Iterator[URL]:
    """URL of a new, empty database of the suite's own, dropped after the test."""
    with _setup_errors_end_the_run():
        url = pg_server.create_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)


@pytest.fixture(scope="session")
def models_module(pytestconfig: pytest.Config) -> ModuleType:
    """The module named by ``--models`` (default ``backend.app.models``), imported."""
    name = _models_name(pytestconfig)
    try:
        return importlib.import_module(name)
    except Exception as error:
        _abort(HarnessError(f"--models {name}: cannot import it: {error}"))


@pytest.fixture(scope="session")
def target_metadata(models_module: ModuleType) -> sa.MetaData:
    """The models' MetaData: the module's ``metadata`` attribute, else ``SQLModel.metadata``."""
    metadata = getattr(models_module, "metadata", None)
    return metadata if isinstance(metadata, sa.MetaData) else SQLModel.metadata


@pytest.fixture(scope="session")
def alembic_ini(pytestconfig: pytest.Config) -> Path:
    """Path to the alembic.ini under test (``--alembic-ini``, default backend/alembic.ini)."""
    given = pytestconfig.getoption("alembic_ini")
    path = Path(given) if given else pytestconfig.rootpath / "backend" / "alembic.ini"
    return path.resolve()


@pytest.fixture(scope="session")
def schema_spec(pytestconfig: pytest.Config) -> SchemaSpec:
    """How the schema under test is built (``--schema``)."""
    with _setup_errors_end_the_run():
        return parse_schema_option(pytestconfig.getoption("schema") or "migrations")


@pytest.fixture(scope="session")
def schema_db_url(pg_server: DatabaseFactory, schema_spec: SchemaSpec,
                  target_metadata: sa.MetaData, alembic_ini: Path) -> Iterator[URL]:
    """URL of a database of the suite's own where the schema under test has been built."""
    with _setup_errors_end_the_run():
        url = pg_server.create_database()
        try:
            build_schema(url, schema_spec, target_metadata, alembic_ini)
        except HarnessError:
            pg_server.drop_database(url)
            raise
    try:
        yield url
    finally:
        pg_server.drop_database(url)


@pytest.fixture(scope="session")
def schema_engine(schema_db_url: URL) -> Iterator[sa.Engine]:
    """An engine on the schema-under-test database; disposed at the end of the session."""
    engine = sa.create_engine(schema_db_url, pool_size=5, max_overflow=10)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def db(schema_engine: sa.Engine) -> Iterator[Sandbox]:
    """A sandbox on the schema under test, rolled back after the test (and each example)."""
    sandbox = Sandbox(schema_engine)
    try:
        yield sandbox
    finally:
        sandbox.close()


def _per_example(inner: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(inner)
    def run_in_savepoint(*args: Any, **kwargs: Any) -> Any:
        sandbox = kwargs.get("db")
        if not isinstance(sandbox, Sandbox):
            return inner(*args, **kwargs)
        with sandbox.example():
            return inner(*args, **kwargs)

    run_in_savepoint._schemafuzz_per_example = True  # type: ignore[attr-defined]
    return run_in_savepoint


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # Hypothesis lets plugins replace `test.hypothesis.inner_test` (it is how async plugins hook
    # in); wrapping it gives each example of a `db`-using test its own savepoint.
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    if handle is None or "db" not in getattr(item, "fixturenames", ()):
        return
    inner = getattr(handle, "inner_test", None)
    if inner is not None and not getattr(inner, "_schemafuzz_per_example", False):
        handle.inner_test = _per_example(inner)
