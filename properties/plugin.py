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

The connection guard (:mod:`properties.harness.guard`) is armed before the first conftest is
loaded: for the whole run, this process and its xdist workers reach only the suite's own
servers and databases, and a refused attempt ends the run with one line.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlmodel import SQLModel

from properties.blocking import UPGRADE_FROM_EMPTY, blocker
from properties.harness import (
    DatabaseFactory,
    HarnessError,
    Provisioned,
    Sandbox,
    SchemaSpec,
    build_schema,
    choose_profile,
    guard,
    parse_schema_option,
    provision,
    register_profiles,
)
from properties.harness.recorder import write_repro_script
from properties.harness.schema import MigrationsBlocked
from properties.migrations.environment import ALEMBIC_ENVS, DEFAULT_ALEMBIC_ENV
from properties.report import Ledger, summary_lines, write_reports
from properties.report.validation import validation_summary_lines, write_validation_report

__all__ = ["PROVISIONED_KEY"]

PROVISIONED_KEY = pytest.StashKey[Provisioned]()
_PROFILE_KEY = pytest.StashKey[str]()
_DESCRIPTION_KEY = pytest.StashKey[tuple[str | None, list[str]]]()
_LEDGER_KEY = pytest.StashKey[Ledger]()
_REPORT_KEY = pytest.StashKey[list[str]]()
_RUN_ID_KEY = pytest.StashKey[str]()  # set in the xdist controller: whose parts to merge

try:
    register_profiles()
    _PROFILE_ERROR: HarnessError | None = None
except HarnessError as error:  # e.g. a bad SCHEMAFUZZ_SHARED_EXAMPLES: said in pytest_configure
    _PROFILE_ERROR = error

# Progress lines and the time budget of deep runs (SCHEMAFUZZ_BUDGET_MINUTES).
pytest_plugins = ["properties.progress"]


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
    group.addoption("--alembic-env", default=None, metavar="WHICH", choices=ALEMBIC_ENVS,
                    help="which env.py runs the --alembic-ini revisions: suite (default: the "
                    "suite's generic env.py, on the suite's connection) or project (the "
                    "project's own, which must use config.attributes['connection'])")
    group.addoption("--schema", default=None, metavar="HOW",
                    help="how to build the schema under test: migrations (default), metadata "
                    "(create_all) or sql:PATH (e.g. a pg_dump --schema-only)")


def _abort(error: HarnessError) -> NoReturn:
    refused = guard.refusals()
    message = refused[0] if refused else str(error)
    pytest.exit(f"schemafuzz: {message}", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Before any conftest (and so any of the app's modules) is imported.
    guard.arm()


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector
                               ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report: pytest.CollectReport = yield
    refused = guard.refusals()
    if refused:  # e.g. a module of the app connecting at import time
        pytest.exit(f"schemafuzz: {refused[0]}", returncode=pytest.ExitCode.USAGE_ERROR)
    return report


def _permit_shared_server(share: dict[str, str]) -> None:
    """In an xdist worker: allow the server the controller provisioned."""
    admin = make_url(share["admin_url"])
    if share.get("owned"):
        guard.permit_server(admin)
    else:
        guard.permit_database(admin)


@contextmanager
def _setup_errors_end_the_run() -> Iterator[None]:
    """Turn a HarnessError into one clean line that ends the run (no traceback per test)."""
    try:
        yield
    except HarnessError as error:
        _abort(error)


def pytest_configure(config: pytest.Config) -> None:
    from hypothesis import settings

    guard.arm()
    share = _worker_share(config)
    if share is not None:
        _permit_shared_server(share)
    if _PROFILE_ERROR is not None:
        raise pytest.UsageError(f"schemafuzz: {_PROFILE_ERROR}")
    option = config.getoption("hypothesis_profile", default=None)
    profile = choose_profile(option)
    try:
        settings.load_profile(profile)
    except Exception:
        raise pytest.UsageError(
            f"unknown Hypothesis profile {profile!r}: use dev, ci or nightly"
        ) from None
    config.stash[_PROFILE_KEY] = profile
    if config.pluginmanager.has_plugin("xdist"):
        config.pluginmanager.register(_XdistController(config), "schemafuzz-xdist")


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
    description, stale = (
        (provisioned.description, provisioned.stale_dropped) if provisioned is not None
        else config.stash.get(_DESCRIPTION_KEY, (None, []))
    )
    if description is None:
        return
    terminalreporter.write_sep("-", "schemafuzz")
    terminalreporter.write_line(f"server: {description}")
    if stale:
        terminalreporter.write_line(f"dropped stale databases of crashed runs: {', '.join(stale)}")
    for line in guard.refusals():
        terminalreporter.write_line(f"connection guard refused: {line}")
    for line in config.stash.get(_REPORT_KEY, []):
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    # Fixture teardown (or the xdist controller's session end) normally closes the server;
    # this catches runs that ended before either.
    _close_provisioned(config)


# --- pytest-xdist: one server and one schema build for all workers --------------------------


def _worker_share(config: pytest.Config) -> dict[str, str] | None:
    """What the xdist controller shares with this worker, or None outside a worker."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get("schemafuzz") if workerinput else None


def _is_xdist_controller(config: pytest.Config) -> bool:
    return (getattr(config, "workerinput", None) is None
            and bool(config.getoption("numprocesses", default=None))
            and config.pluginmanager.has_plugin("dsession"))


class _XdistController:
    """Starts the server and builds a template database once, before the workers start; each
    worker copies the template (``CREATE DATABASE ... TEMPLATE``), which is much faster than
    migrating per worker. The controller drops every database of the run at the end, so a
    worker that dies leaves nothing behind."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.share: dict[str, str] | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if not _is_xdist_controller(self.config):
            return
        with _setup_errors_end_the_run():
            provisioned = provision(_db_url(self.config))
            self.config.stash[PROVISIONED_KEY] = provisioned
            try:
                template = str(_build_schema_database(self.config, provisioned.factory).database)
                blocked = ""
            except MigrationsBlocked as finding:
                template, blocked = "", str(finding)
        self.config.stash[_RUN_ID_KEY] = provisioned.factory.run_id
        self.share = {
            "admin_url": provisioned.factory.admin_url.render_as_string(hide_password=False),
            "run_id": provisioned.factory.run_id,
            "template": template,
            "blocked": blocked,
            "owned": "yes" if provisioned.throwaway is not None else "",
        }

    def pytest_configure_node(self, node: Any) -> None:
        if self.share is not None:
            node.workerinput["schemafuzz"] = self.share

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.share is not None:
            _close_provisioned(self.config)


@pytest.fixture(scope="session")
def pg_server(pytestconfig: pytest.Config) -> Iterator[DatabaseFactory]:
    """The server the suite creates its databases on (see module docstring)."""
    shared = _worker_share(pytestconfig)
    if shared is not None:
        # An xdist worker: the controller owns the server and drops what a dead worker left.
        factory = DatabaseFactory(make_url(shared["admin_url"]), run_id=shared["run_id"])
        try:
            yield factory
        finally:
            factory.drop_all_created()
        return
    provisioned = pytestconfig.stash.get(PROVISIONED_KEY, None)
    if provisioned is None:
        with _setup_errors_end_the_run():
            provisioned = provision(_db_url(pytestconfig))
        pytestconfig.stash[PROVISIONED_KEY] = provisioned
    try:
        yield provisioned.factory
    finally:
        _close_provisioned(pytestconfig)


def _close_provisioned(config: pytest.Config) -> None:
    provisioned = config.stash.get(PROVISIONED_KEY, None)
    if provisioned is None:
        return
    del config.stash[PROVISIONED_KEY]
    config.stash[_DESCRIPTION_KEY] = provisioned.description, provisioned.stale_dropped
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


def _import_models(config: pytest.Config) -> ModuleType:
    name = _models_name(config)
    try:
        return importlib.import_module(name)
    except guard.GuardRefusal:
        raise
    except Exception as error:
        raise HarnessError(f"--models {name}: cannot import it: {error}") from None


def _metadata_of(module: ModuleType) -> sa.MetaData:
    metadata = getattr(module, "metadata", None)
    return metadata if isinstance(metadata, sa.MetaData) else SQLModel.metadata


def _alembic_ini_of(config: pytest.Config) -> Path:
    given = config.getoption("alembic_ini")
    path = Path(given) if given else config.rootpath / "backend" / "alembic.ini"
    return path.resolve()


def _schema_spec_of(config: pytest.Config) -> SchemaSpec:
    return parse_schema_option(config.getoption("schema") or "migrations")


def _build_schema_database(config: pytest.Config, factory: DatabaseFactory) -> URL:
    """Create a database of the run and build the schema under test in it."""
    spec = _schema_spec_of(config)
    metadata = _metadata_of(_import_models(config))
    url = factory.create_database()
    try:
        build_schema(url, spec, metadata, _alembic_ini_of(config),
                     alembic_env=config.getoption("alembic_env") or DEFAULT_ALEMBIC_ENV)
    except HarnessError:
        factory.drop_database(url)
        raise
    return url


@pytest.fixture(scope="session")
def models_module(pytestconfig: pytest.Config) -> ModuleType:
    """The module named by ``--models`` (default ``backend.app.models``), imported."""
    with _setup_errors_end_the_run():
        return _import_models(pytestconfig)


@pytest.fixture(scope="session")
def target_metadata(models_module: ModuleType) -> sa.MetaData:
    """The models' MetaData: the module's ``metadata`` attribute, else ``SQLModel.metadata``."""
    return _metadata_of(models_module)


@pytest.fixture(scope="session")
def alembic_ini(pytestconfig: pytest.Config) -> Path:
    """Path to the alembic.ini under test (``--alembic-ini``, default backend/alembic.ini)."""
    return _alembic_ini_of(pytestconfig)


@pytest.fixture(scope="session")
def schema_spec(pytestconfig: pytest.Config) -> SchemaSpec:
    """How the schema under test is built (``--schema``)."""
    with _setup_errors_end_the_run():
        return _schema_spec_of(pytestconfig)


@pytest.fixture(scope="session")
def _schema_build(pytestconfig: pytest.Config, pg_server: DatabaseFactory
                  ) -> Iterator[URL | None]:
    """The database holding the schema under test, or None when the project's revisions could
    not build it (the finding is then the run's ``upgrade from empty`` blocker)."""
    shared = _worker_share(pytestconfig)
    url: URL | None = None
    with _setup_errors_end_the_run():
        if shared is not None and shared["blocked"]:
            blocker(pytestconfig, UPGRADE_FROM_EMPTY, shared["blocked"])
        elif shared is not None:
            url = pg_server.create_database(template=shared["template"])
        else:
            try:
                url = _build_schema_database(pytestconfig, pg_server)
            except MigrationsBlocked as finding:
                blocker(pytestconfig, UPGRADE_FROM_EMPTY, str(finding))
    try:
        yield url
    finally:
        if url is not None:
            pg_server.drop_database(url)


@pytest.fixture
def schema_db_url(request: pytest.FixtureRequest, _schema_build: URL | None) -> URL:
    """URL of a database of the suite's own where the schema under test has been built (under
    pytest-xdist: a copy of the template the controller built once). When the project's
    revisions cannot build it, the first test needing it fails with that finding and the others
    are skipped as blocked by it."""
    if _schema_build is None:
        found = blocker(request.config, UPGRADE_FROM_EMPTY)
        assert found is not None
        found.stop(request.node.nodeid)
    return _schema_build


@pytest.fixture(scope="session")
def _schema_engine(_schema_build: URL | None) -> Iterator[sa.Engine | None]:
    if _schema_build is None:
        yield None
        return
    engine = sa.create_engine(_schema_build, pool_size=5, max_overflow=10)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def schema_engine(schema_db_url: URL, _schema_engine: sa.Engine | None) -> sa.Engine:
    """An engine on the schema-under-test database (one for the session, disposed at its end)."""
    assert _schema_engine is not None  # schema_db_url has stopped the test otherwise
    return _schema_engine


@pytest.fixture
def db(schema_engine: sa.Engine) -> Iterator[Sandbox]:
    """A sandbox on the schema under test, rolled back after the test (and each example)."""
    sandbox = Sandbox(schema_engine)
    try:
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture(scope="session")
def coverage_ledger(pytestconfig: pytest.Config) -> Ledger:
    """The run's constraint-coverage ledger; properties declare constraints and count the
    examples that exercised them. Written to ``.schemafuzz/coverage.{md,json}`` at the end."""
    if _LEDGER_KEY not in pytestconfig.stash:
        pytestconfig.stash[_LEDGER_KEY] = Ledger()
    return pytestconfig.stash[_LEDGER_KEY]


def _parts_folder(config: pytest.Config) -> Path:
    return config.rootpath / ".schemafuzz" / "parts"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    ledger = config.stash.get(_LEDGER_KEY, None)
    shared = _worker_share(config)
    if shared is not None:  # an xdist worker hands its part to the controller
        if ledger is not None:
            worker = getattr(config, "workerinput", {}).get("workerid", "worker")
            ledger.dump(_parts_folder(config) / f"{shared['run_id']}-{worker}.json")
        return
    run_id = config.stash.get(_RUN_ID_KEY, None)
    parts = sorted(_parts_folder(config).glob(f"{run_id}-*.json")) if run_id else []
    if (ledger is None or not (ledger.entries or ledger.measurements)) and not parts:
        return
    merged = Ledger()
    if ledger is not None:
        merged.merge(ledger)
    for part in parts:
        merged.merge(Ledger.load(part))
        part.unlink()
    md, js = write_reports(merged, config.rootpath / ".schemafuzz")
    lines = [*summary_lines(merged), f"report: {md} and {js.name}"]
    try:
        metadata: sa.MetaData | None = _metadata_of(_import_models(config))
    except HarnessError:
        metadata = None  # the report is still written, without its diagram
    try:
        vmd, vjs = write_validation_report(merged, metadata, config.rootpath / ".schemafuzz")
        lines += [*validation_summary_lines(merged), f"validation: {vmd} and {vjs.name}"]
    except Exception as error:  # the session must end cleanly whatever the report does
        lines.append(f"validation report not written: {error}")
    config.stash[_REPORT_KEY] = lines


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


def _replay_advice(item: pytest.Item) -> str:
    config = item.config
    options = [f"--{name.replace('_', '-')} {config.getoption(name)}"
               for name in ("models", "alembic_ini", "alembic_env", "schema")
               if config.getoption(name)]
    if _db_url(config):
        options.append("--db-url URL")
    # The node id is relative to the rootdir, which need not hold the test file: name the
    # file by its path as seen from the working directory.
    try:
        where = item.path.relative_to(Path.cwd())
    except ValueError:
        where = item.path
    test = "::".join([str(where), *item.nodeid.split("::")[1:]])
    return " ".join([f"pytest '{test}'", *options])


def _how_to_build(config: pytest.Config) -> str:
    spec = _schema_spec_of(config)
    if spec.kind == "sql":
        return f"createdb repro && psql -d repro -f {spec.sql_path}"
    if spec.kind == "metadata":
        return (f"createdb repro && python -c \"import sqlalchemy as sa, {_models_name(config)} "
                "as m; from sqlmodel import SQLModel; md = getattr(m, 'metadata', "
                "SQLModel.metadata); md.create_all(sa.create_engine('postgresql:///repro'))\"")
    env = config.getoption("alembic_env") or DEFAULT_ALEMBIC_ENV
    return (f"createdb repro && python -c \"from pathlib import Path; from sqlalchemy import "
            "make_url; from properties.migrations import MigrationRunner as R; "
            f"R(Path('{_alembic_ini_of(config)}'), make_url('postgresql:///repro'), "
            f"env='{env}').upgrade()\"")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    refused = guard.refusals()
    if refused:
        # The guard refused a connection: nothing else this run reports can be trusted, and
        # the app's code may have caught the refusal. One line, and the run stops.
        line = f"schemafuzz: {refused[0]}"
        if report.failed or report.when == "call":
            report.outcome = "failed"
            report.longrepr = line
        item.session.shouldstop = line
        return report
    sandbox = getattr(item, "funcargs", {}).get("db")
    if report.when != "call" or not report.failed or not isinstance(sandbox, Sandbox):
        return report
    statements = sandbox.recorder.failing
    if statements is None:
        statements = sandbox.recorder.current
    try:
        path = write_repro_script(
            item.config.rootpath / ".schemafuzz" / "repro", item.nodeid, statements,
            _how_to_build(item.config), str(call.excinfo.value) if call.excinfo else "",
        )
    except (OSError, HarnessError) as error:
        report.sections.append(("schemafuzz replay", f"could not write the SQL repro: {error}"))
        return report
    report.sections.append((
        "schemafuzz replay",
        f"replay (the failing example is saved and runs first): {_replay_advice(item)}\n"
        f"reproduce with psql alone ({len(statements)} statements): {path}",
    ))
    return report


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
