"""The fixtures that give every property a real PostgreSQL with the schema under test,
registered only in runs where schemafuzz is active, each named ``schemafuzz_*`` so none takes
the name of a project's own fixture:

- ``schemafuzz_server`` (session): a ``DatabaseFactory`` (``create_database()``,
  ``drop_database(url)``, ``admin_url``) on the throwaway server, or on the
  ``--schemafuzz-db-url`` server.
- ``schemafuzz_fresh_db_url`` (function): URL of a new empty database, dropped after the test.
- ``schemafuzz_models`` / ``schemafuzz_metadata`` / ``schemafuzz_alembic_ini`` /
  ``schemafuzz_schema_spec`` (session): what is under test (:class:`schemafuzz.subject.UnderTest`).
- ``schemafuzz_schema_db_url`` / ``schemafuzz_schema_engine``: a database holding the schema
  under test (one for the session).
- ``schemafuzz_db`` (function): a ``Sandbox`` on ``schemafuzz_schema_engine``; rolled back after
  the test, and after every Hypothesis example when the test is a ``@given`` test.
- ``schemafuzz_ledger`` (session) and ``schemafuzz_tallies`` (function): what the reports are
  made of.
- ``schemafuzz_verdict`` (function): gives a finding its verdict by kind (drift fails,
  unguarded fails unless accepted, advice is recorded) and reports root causes once, blocking
  the tests that depend on them (:mod:`schemafuzz.verdicts`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from .blocking import UPGRADE_FROM_EMPTY, blocker
from .findings import AppCodeError, Finding
from .harness import (
    DatabaseFactory,
    HarnessError,
    Provisioned,
    Sandbox,
    SchemaSpec,
    build_schema,
    guard,
    provision,
)
from .harness.schema import MigrationsBlocked
from .report import Ledger
from .report.snapshot import read_snapshot
from .subject import UnderTest, under_test_of
from .verdicts import RootCauses, conclude, finding_cause

if TYPE_CHECKING:  # imported by the fixture: it loads the strategies, too slow for start-up
    from .outcomes import Tallies

__all__ = ["LEDGER_KEY", "PROVISIONED_KEY", "Verdict", "build_schema_database", "close_provisioned",
           "run_ledger", "setup_error_line", "setup_errors_end_the_run", "worker_share"]

PROVISIONED_KEY = pytest.StashKey[Provisioned]()
LEDGER_KEY = pytest.StashKey[Ledger]()
DESCRIPTION_KEY = pytest.StashKey[tuple[str | None, list[str]]]()


def setup_error_line(error: HarnessError) -> str:
    """The one line a setup problem ends the run with: the guard's first refusal when there
    was one (whatever the error says, the refused connection is the cause), else the error."""
    refused = guard.refusals()
    return f"schemafuzz: {refused[0] if refused else error}"


def _abort(error: HarnessError) -> NoReturn:
    pytest.exit(setup_error_line(error), returncode=pytest.ExitCode.USAGE_ERROR)


@contextmanager
def setup_errors_end_the_run() -> Iterator[None]:
    """Turn a HarnessError into one clean line that ends the run (no traceback per test)."""
    try:
        yield
    except HarnessError as error:
        _abort(error)


def worker_share(config: pytest.Config) -> dict[str, str] | None:
    """What the xdist controller shares with this worker, or None outside a worker."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get("schemafuzz") if workerinput else None


def close_provisioned(config: pytest.Config) -> None:
    """Drop the run's databases and stop its throwaway server, if this process holds them."""
    provisioned = config.stash.get(PROVISIONED_KEY, None)
    if provisioned is None:
        return
    del config.stash[PROVISIONED_KEY]
    config.stash[DESCRIPTION_KEY] = provisioned.description, provisioned.stale_dropped
    leftovers = provisioned.close()
    if leftovers:
        print(f"schemafuzz: could not drop {', '.join(leftovers)}; the next run drops them")


def build_schema_database(under_test: UnderTest, factory: DatabaseFactory) -> URL:
    """Create a database of the run and build the schema under test in it. Raises
    MigrationsBlocked when the revisions cannot build it, HarnessError for setup problems."""
    url = factory.create_database()
    try:
        build_schema(url, under_test.schema, under_test.metadata, under_test.alembic_ini,
                     alembic_env=under_test.alembic_env)
    except HarnessError:
        factory.drop_database(url)
        raise
    return url


def pytest_unconfigure(config: pytest.Config) -> None:
    # Fixture teardown (or the xdist controller's session end) normally closes the server;
    # this catches runs that ended before either.
    close_provisioned(config)


@pytest.fixture(scope="session")
def schemafuzz_server(pytestconfig: pytest.Config) -> Iterator[DatabaseFactory]:
    """The server the suite creates its databases on (see module docstring)."""
    shared = worker_share(pytestconfig)
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
        with setup_errors_end_the_run():
            provisioned = provision(under_test_of(pytestconfig).db_url)
        pytestconfig.stash[PROVISIONED_KEY] = provisioned
    try:
        yield provisioned.factory
    finally:
        close_provisioned(pytestconfig)


@pytest.fixture
def schemafuzz_fresh_db_url(schemafuzz_server: DatabaseFactory) -> Iterator[URL]:
    """URL of a new, empty database of the suite's own, dropped after the test."""
    with setup_errors_end_the_run():
        url = schemafuzz_server.create_database()
    try:
        yield url
    finally:
        schemafuzz_server.drop_database(url)


@pytest.fixture(scope="session")
def schemafuzz_models(pytestconfig: pytest.Config) -> ModuleType:
    """The module of the models under test, imported."""
    return under_test_of(pytestconfig).models


@pytest.fixture(scope="session")
def schemafuzz_metadata(pytestconfig: pytest.Config) -> sa.MetaData:
    """The models' MetaData: the module's ``metadata`` attribute, else ``SQLModel.metadata``."""
    return under_test_of(pytestconfig).metadata


@pytest.fixture(scope="session")
def schemafuzz_alembic_ini(pytestconfig: pytest.Config) -> Path:
    """The alembic.ini under test; skips the test when no Alembic project is configured."""
    ini = under_test_of(pytestconfig).alembic_ini
    if ini is None:
        pytest.skip("no Alembic project configured (alembic_ini in [tool.schemafuzz], or "
                    "--schemafuzz-alembic-ini)")
    return ini


@pytest.fixture(scope="session")
def schemafuzz_schema_spec(pytestconfig: pytest.Config) -> SchemaSpec:
    """How the schema under test is built."""
    return under_test_of(pytestconfig).schema


@pytest.fixture(scope="session")
def _schemafuzz_schema_build(pytestconfig: pytest.Config, schemafuzz_server: DatabaseFactory
                  ) -> Iterator[URL | None]:
    """The database holding the schema under test, or None when the project's revisions could
    not build it (the finding is then the run's ``upgrade from empty`` blocker)."""
    shared = worker_share(pytestconfig)
    url: URL | None = None
    with setup_errors_end_the_run():
        if shared is not None and shared["blocked"]:
            blocker(pytestconfig, UPGRADE_FROM_EMPTY, shared["blocked"])
        elif shared is not None:
            url = schemafuzz_server.create_database(template=shared["template"])
        else:
            try:
                url = build_schema_database(under_test_of(pytestconfig), schemafuzz_server)
            except MigrationsBlocked as finding:
                blocker(pytestconfig, UPGRADE_FROM_EMPTY, str(finding))
    if url is not None:
        _snapshot_into_ledger(pytestconfig, url)
    try:
        yield url
    finally:
        if url is not None:
            schemafuzz_server.drop_database(url)


def _snapshot_into_ledger(config: pytest.Config, url: URL) -> None:
    """Keep what the database under test holds in the run's ledger, for the report's diagram
    (one catalogue read per process; a failed read leaves the diagram to the models)."""
    ledger = run_ledger(config)
    if ledger.schema is not None:
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            ledger.schema = read_snapshot(connection, under_test_of(config).schema.describe())
    except sa.exc.SQLAlchemyError:
        pass
    finally:
        engine.dispose()


@pytest.fixture
def schemafuzz_schema_db_url(request: pytest.FixtureRequest,
                             _schemafuzz_schema_build: URL | None) -> URL:
    """URL of a database of the suite's own where the schema under test has been built (under
    pytest-xdist: a copy of the template the controller built once). When the project's
    revisions cannot build it, the first test needing it fails with that finding and the others
    are skipped as blocked by it."""
    if _schemafuzz_schema_build is None:
        found = blocker(request.config, UPGRADE_FROM_EMPTY)
        assert found is not None
        found.stop(request.node.nodeid)
    return _schemafuzz_schema_build


@pytest.fixture(scope="session")
def _schemafuzz_schema_engine(_schemafuzz_schema_build: URL | None) -> Iterator[sa.Engine | None]:
    if _schemafuzz_schema_build is None:
        yield None
        return
    engine = sa.create_engine(_schemafuzz_schema_build, pool_size=5, max_overflow=10)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def schemafuzz_schema_engine(schemafuzz_schema_db_url: URL,
                             _schemafuzz_schema_engine: sa.Engine | None) -> sa.Engine:
    """An engine on the schema-under-test database (one for the session, disposed at its end)."""
    assert _schemafuzz_schema_engine is not None  # schema_db_url has stopped the test otherwise
    return _schemafuzz_schema_engine


@pytest.fixture
def schemafuzz_db(schemafuzz_schema_engine: sa.Engine) -> Iterator[Sandbox]:
    """A sandbox on the schema under test, rolled back after the test (and each example)."""
    sandbox = Sandbox(schemafuzz_schema_engine)
    try:
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture(scope="session")
def schemafuzz_ledger(pytestconfig: pytest.Config) -> Ledger:
    """The run's constraint-coverage ledger; properties declare constraints and count the
    examples that exercised them. Written to ``.schemafuzz/coverage.{md,json}`` at the end."""
    return run_ledger(pytestconfig)


def run_ledger(config: pytest.Config) -> Ledger:
    """The run's ledger, made on first use (by the fixture, or by a root cause of the app's
    code met inside a property)."""
    if LEDGER_KEY not in config.stash:
        config.stash[LEDGER_KEY] = Ledger()
    return config.stash[LEDGER_KEY]


@pytest.fixture
def schemafuzz_tallies(request: pytest.FixtureRequest,
                       schemafuzz_ledger: Ledger) -> Iterator[Tallies]:
    """Per-criterion counts for this test; each criterion counted becomes one measurement
    (SC-002, SC-007, SC-008, ...) in the validation report when the test ends."""
    from .outcomes import Tallies

    counts = Tallies()
    yield counts
    for criterion, tally in counts.items():
        if tally.ok and not tally.counts:
            continue  # a test that exercised nothing (skipped, say) measured nothing
        schemafuzz_ledger.measure(criterion, passed=tally.ok, figure=tally.figure(),
                                measured_by=request.node.nodeid)


_ROOT_CAUSES_KEY = pytest.StashKey["RootCauses"]()


class Verdict:
    """The verdicts of one test: :meth:`conclude` for a finding, :meth:`root_cause` for a
    finding other tests would meet again, :meth:`check` to skip a test a root cause blocks."""

    def __init__(self, ledger: Ledger, causes: RootCauses, accepted: frozenset[str],
                 nodeid: str) -> None:
        self.ledger, self.causes, self.accepted, self.nodeid = ledger, causes, accepted, nodeid

    def __repr__(self) -> str:
        # Hypothesis prints a failing test's arguments, fixtures included: name the test.
        return f"Verdict(test={self.nodeid!r})"

    def conclude(self, finding: Finding, keys: Iterable[str] = (), cause: str | None = None
                 ) -> None:
        """See :func:`schemafuzz.verdicts.conclude` (fails, or returns for advice/accepted);
        a failure noted as ``cause`` blocks the tests that :meth:`check_cause` it."""
        if cause is not None:
            self.causes.remember(cause, finding, self.nodeid)
        try:
            conclude(self.ledger, finding, accepted=self.accepted, keys=keys)
        except pytest.fail.Exception:
            self.causes.remember(finding_cause(finding), finding, self.nodeid)
            raise

    def check_cause(self, key: str) -> None:
        """Skip this test when the cause ``key`` was reported by an earlier one."""
        self.causes.check_cause(key, self.nodeid)

    def root_cause(self, key: str, finding: Finding, blocks: Iterable[str] = ()) -> NoReturn:
        """See :meth:`schemafuzz.verdicts.RootCauses.found`: fails the first test, skips the
        next ones."""
        self.causes.found(self.ledger, key, finding, self.nodeid, blocks)

    def check(self, tables: Iterable[str]) -> None:
        """Skip this test when a root cause blocks one of ``tables``."""
        self.causes.check(tables)


def _verdict_of(item: pytest.Item) -> Verdict:
    config = item.config
    if _ROOT_CAUSES_KEY not in config.stash:
        config.stash[_ROOT_CAUSES_KEY] = RootCauses()
    accepted = under_test_of(config).configuration.accept_unguarded
    return Verdict(run_ledger(config), config.stash[_ROOT_CAUSES_KEY], accepted, item.nodeid)


@pytest.fixture
def schemafuzz_verdict(request: pytest.FixtureRequest, schemafuzz_ledger: Ledger) -> Verdict:
    """This test's :class:`Verdict`, sharing the run's root causes and accepted rules."""
    assert isinstance(request.node, pytest.Item)
    return _verdict_of(request.node)


def _app_code_finding(error: AppCodeError) -> Finding:
    return Finding(error.table, error.column, "app code", ["model"],
                   "the app's code or SQLModel/SQLAlchemy refused a generated row before it "
                   f"reached PostgreSQL: {error.message}")


def _per_example(inner: Callable[..., Any], item: pytest.Item) -> Callable[..., Any]:
    @functools.wraps(inner)
    def run_in_savepoint(*args: Any, **kwargs: Any) -> Any:
        sandbox = kwargs.get("schemafuzz_db")
        if not isinstance(sandbox, Sandbox):
            return inner(*args, **kwargs)
        try:
            with sandbox.example():
                return inner(*args, **kwargs)
        except AppCodeError as error:  # one finding per column, not a traceback per test
            verdict = _verdict_of(item)
            verdict.root_cause(f"app code: {error.table}.{error.column}: {error.message}",
                               _app_code_finding(error), blocks=[error.table])

    run_in_savepoint._schemafuzz_per_example = True  # type: ignore[attr-defined]
    return run_in_savepoint


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # Hypothesis lets plugins replace `test.hypothesis.inner_test` (it is how async plugins hook
    # in); wrapping it gives each example of a `schemafuzz_db` test its own savepoint.
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    if handle is None or "schemafuzz_db" not in getattr(item, "fixturenames", ()):
        return
    inner = getattr(handle, "inner_test", None)
    if inner is not None and not getattr(inner, "_schemafuzz_per_example", False):
        handle.inner_test = _per_example(inner, item)
