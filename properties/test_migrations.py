"""Migration properties of the Alembic project named by ``--schemafuzz-alembic-ini``
(pytest-alembic style: named, separately selectable tests; ``-k single_head``, ``-k preservation``
...).

Each test gets an empty database of its own (``fresh_db_url``). The library behind them is
``schemafuzz.migrations``; several checks are pytest-alembic's built-in tests run through it.
``upgrade head`` and ``downgrade base`` durations go to ``.schemafuzz/migrations.json`` and the
terminal summary.

By default (``--schemafuzz-alembic-env suite``) the project's revisions run through the suite's
generic env.py, on the suite's connection. With ``--schemafuzz-alembic-env project`` the project's
env.py runs and receives the database twice: ``sqlalchemy.url`` (main option) and an open
connection in ``config.attributes["connection"]``, which it must use; the connection guard stops
one that opens its own.

A project that cannot be loaded ends the run with one line. When its revisions cannot build the
schema from an empty database, ``test_upgrade_head_from_empty`` reports that finding and the
properties that need an upgraded database are skipped as blocked by it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from schemafuzz.blocking import UPGRADE_FROM_EMPTY, Blocker, blocker
from schemafuzz.harness import HarnessError
from schemafuzz.harness.schema import upgrade_failure
from schemafuzz.migrations import (
    AlembicEnv,
    MigrationError,
    MigrationRunner,
    MultipleHeadsError,
    SchemaMismatchError,
    attribute_differences,
    check_data_preservation,
    check_each_revision_round_trip,
    check_model_definitions_match_ddl,
    check_single_head,
    check_up_down_consistency,
    check_upgrade_from_empty,
    compare_schema,
    create_models_schema,
    diff_live_schemas,
    record_timings,
)
from schemafuzz.migrations.diff import Difference
from schemafuzz.report import Ledger
from schemafuzz.report.criteria import measuring
from schemafuzz.schema_differences import record_differences
from schemafuzz.strategies import LiveSchema, read_live_schema
from schemafuzz.subject import under_test_of


def _alembic_env(config: pytest.Config) -> AlembicEnv:
    """Which env.py runs the project's revisions."""
    return under_test_of(config).alembic_env


def _revisions_for(config: pytest.Config) -> list[str]:
    """Revision ids of the project under test, for parametrisation (no database needed)."""
    under_test = under_test_of(config)
    if under_test.alembic_ini is None:
        return ["<no Alembic project>"]  # one test id; the alembic_ini fixture skips it
    # A branched history has no order: one test id, whose run reports the real error.
    return list(under_test.revisions) or ["<history>"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "revision" in metafunc.fixturenames:
        metafunc.parametrize("revision", _revisions_for(metafunc.config))


class _TimingsSummary:
    """Prints the recorded migration timings at the end of the run."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.timings:
            terminalreporter.write_sep("-", "migration timings")
            for label, seconds in sorted(self.timings.items()):
                terminalreporter.write_line(f"{label}: {seconds * 1000:.1f} ms")


@pytest.fixture(scope="session")
def migration_timings(pytestconfig: pytest.Config,
                      schemafuzz_alembic_ini: Path) -> Iterator[dict[str, float]]:
    """Timings recorded by the tests; written to .schemafuzz/migrations.json at the end."""
    summary = _TimingsSummary()
    pytestconfig.pluginmanager.register(summary, "schemafuzz-migration-timings")
    yield summary.timings
    if summary.timings:
        record_timings(summary.timings, schemafuzz_alembic_ini,
                       pytestconfig.rootpath / ".schemafuzz" / "migrations.json")


@pytest.fixture(scope="session")
def upgrade_blocker(pytestconfig: pytest.Config, schemafuzz_alembic_ini: Path,
                    schemafuzz_server: Any,
                    schemafuzz_metadata: Any, schemafuzz_schema_spec: Any,
                    request: pytest.FixtureRequest) -> Blocker | None:
    """Load the project once (one line ending the run when it cannot be loaded) and upgrade an
    empty database to head once: the run's ``upgrade from empty`` blocker when that fails
    (shared with the schema build), else None. When the schema under test is built by the
    migrations, that build is the probe."""
    if schemafuzz_schema_spec.kind == "migrations":
        request.getfixturevalue("_schemafuzz_schema_build")  # ends the run, or records the blocker
    known = blocker(pytestconfig, UPGRADE_FROM_EMPTY)
    if known is not None or schemafuzz_schema_spec.kind == "migrations":
        return known
    probe = MigrationRunner(schemafuzz_alembic_ini, schemafuzz_server.create_database(),
                            env=_alembic_env(pytestconfig), target_metadata=schemafuzz_metadata)
    try:
        probe.upgrade("head")
    except HarnessError as error:  # a project that cannot be loaded, a refused connection
        pytest.exit(f"schemafuzz: {error}", returncode=pytest.ExitCode.USAGE_ERROR)
    except (MigrationError, MultipleHeadsError) as error:
        return blocker(pytestconfig, UPGRADE_FROM_EMPTY, upgrade_failure(error))
    finally:
        probe.dispose()
        schemafuzz_server.drop_database(probe.url)
    return None


@pytest.fixture
def runner(pytestconfig: pytest.Config, schemafuzz_alembic_ini: Path, schemafuzz_fresh_db_url: Any,
           schemafuzz_metadata: Any, upgrade_blocker: Blocker | None) -> Iterator[MigrationRunner]:
    """A MigrationRunner over the project under test and an empty database."""
    migration_runner = MigrationRunner(schemafuzz_alembic_ini, schemafuzz_fresh_db_url,
                                       env=_alembic_env(pytestconfig),
                                       target_metadata=schemafuzz_metadata)
    yield migration_runner
    migration_runner.dispose()


@pytest.fixture
def upgradable(upgrade_blocker: Blocker | None, request: pytest.FixtureRequest) -> None:
    """Stop a test that needs ``upgrade head`` to work: the first such test reports the
    finding, the others are skipped as blocked by it."""
    if upgrade_blocker is not None:
        upgrade_blocker.stop(request.node.nodeid)


def test_single_head(runner: MigrationRunner) -> None:
    """The history has exactly one head (pytest-alembic's test_single_head_revision)."""
    check_single_head(runner)


def test_upgrade_head_from_empty(
    runner: MigrationRunner, migration_timings: dict[str, float], schemafuzz_ledger: Ledger,
    request: pytest.FixtureRequest, upgrade_blocker: Blocker | None,
) -> None:
    """`upgrade head` succeeds on an empty database, one revision at a time."""
    if upgrade_blocker is not None:
        schemafuzz_ledger.measure("SC-010", passed=False, measured_by=request.node.nodeid,
                                figure=upgrade_blocker.finding[:600])
        upgrade_blocker.stop(request.node.nodeid)
    with measuring(schemafuzz_ledger, "SC-010", request.node.nodeid) as sc:
        migration_timings["upgrade head"] = check_upgrade_from_empty(runner)
        sc.figure = (f"upgrade head from empty ({len(runner.revisions())} revisions): "
                     f"{migration_timings['upgrade head'] * 1000:.0f} ms")
        assert runner.current() == runner.revisions()[-1]


def test_downgrade_base_leaves_empty_schema(
    upgradable: None, runner: MigrationRunner, migration_timings: dict[str, float],
    schemafuzz_ledger: Ledger, request: pytest.FixtureRequest,
) -> None:
    """`downgrade base` from head succeeds and leaves nothing behind but alembic_version."""
    runner.upgrade("head")
    with measuring(schemafuzz_ledger, "SC-010", request.node.nodeid) as sc:
        migration_timings["downgrade base"] = runner.downgrade("base")
        sc.figure = f"downgrade base from head: {migration_timings['downgrade base'] * 1000:.0f} ms"
    with runner.connect() as connection:
        left = diff_live_schemas(LiveSchema(), read_live_schema(connection), "empty database",
                               "after downgrade base")
    if left:
        pytest.fail("downgrade base leaves objects behind:\n  " + "\n  ".join(map(str, left)))


def test_each_revision_up_down_up_leaves_no_trace(
    upgradable: None, runner: MigrationRunner, migration_timings: dict[str, float],
    schemafuzz_ledger: Ledger, request: pytest.FixtureRequest,
) -> None:
    """Each revision: up, down, up; the downgrade restores the catalogue exactly (tables,
    indexes, constraints, enum types, functions, triggers) and the re-upgrade rebuilds it."""
    with measuring(schemafuzz_ledger, "SC-005", request.node.nodeid) as sc:
        round_trips = check_each_revision_round_trip(runner)
        sc.figure = (f"{len(round_trips)} revisions up/down/up: catalogue restored exactly "
                     "after each downgrade")
    for revision, seconds in round_trips.items():
        migration_timings[f"downgrade {revision}"] = seconds


def test_pytest_alembic_up_down_consistency(upgradable: None, runner: MigrationRunner) -> None:
    """pytest-alembic's test_up_down_consistency: all the way up, down, and up again."""
    check_up_down_consistency(runner)


def test_pytest_alembic_model_definitions_match_ddl(
    upgradable: None, runner: MigrationRunner, schemafuzz_metadata: Any, schemafuzz_ledger: Ledger,
    request: pytest.FixtureRequest,
) -> None:
    """pytest-alembic's test_model_definitions_match_ddl: `alembic check` through env.py."""
    with measuring(schemafuzz_ledger, "SC-001", request.node.nodeid) as sc:
        check_model_definitions_match_ddl(runner, schemafuzz_metadata)
        sc.figure = "alembic autogenerate after upgrade head: no differences from the models"


def test_schema_equals_models(
    upgradable: None, runner: MigrationRunner, schemafuzz_server: Any, schemafuzz_metadata: Any,
    schemafuzz_ledger: Ledger, request: pytest.FixtureRequest,
) -> None:
    """After `upgrade head` the live schema equals the models' `create_all` schema: Alembic's
    compare_metadata, plus the catalogue (CHECKs, ON DELETE, enum labels, timestamptz, server
    defaults, indexes, functions, triggers)."""
    runner.upgrade("head")
    models_url = schemafuzz_server.create_database()
    try:
        create_models_schema(models_url, schemafuzz_metadata)
        engine = create_engine(models_url, poolclass=NullPool)
        try:
            with runner.connect() as migrated, engine.connect() as models_db:
                differences: list[Difference] = compare_schema(migrated, models_db,
                                                               schemafuzz_metadata)
        finally:
            engine.dispose()
    finally:
        schemafuzz_server.drop_database(models_url)
    if differences:
        # Name the revision behind each difference, replaying the history on a scratch database.
        scratch = runner.on(schemafuzz_server.create_database())
        try:
            culprits = attribute_differences(scratch, differences)
        finally:
            scratch.dispose()
            schemafuzz_server.drop_database(scratch.url)
        record_differences(schemafuzz_ledger, differences)
        error = SchemaMismatchError(differences, culprits)
        schemafuzz_ledger.measure("SC-001", passed=False, measured_by=request.node.nodeid,
                                figure=f"{len(differences)} differences: {str(error)[:600]}")
        raise error
    schemafuzz_ledger.measure(
        "SC-001", passed=True, measured_by=request.node.nodeid,
        figure=f"live catalogue after upgrade head equals create_all of the models: 0 "
        f"differences over {len(schemafuzz_metadata.tables)} tables")


def test_data_preservation(
    upgradable: None, runner: MigrationRunner, revision: str, schemafuzz_ledger: Ledger,
    request: pytest.FixtureRequest,
) -> None:
    """Rows generated for the schema at each revision (boundary rows first: max-length and
    astral strings, many children) survive `upgrade head` and the downgrade back, equal."""
    examples = max(3, min(60, settings().max_examples // 6))
    with measuring(schemafuzz_ledger, "SC-005", request.node.nodeid) as sc:
        report = check_data_preservation(runner, revision, max_examples=examples)
        sc.figure = (f"revision {revision}: {report.rows} generated rows survived upgrade head "
                     "and the downgrade back, equal"
                     + "".join(f"; {note}" for note in report.untraceable))
        assert report.rows > 0, f"no rows could be generated at revision {revision}: {report.notes}"
        assert not report.notes, report.notes
