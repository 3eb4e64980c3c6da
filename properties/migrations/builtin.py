"""The standard migration checks, as plain functions over a :class:`~.runner.MigrationRunner`.

pytest-alembic 0.13.1 is reused where it fits: its runner (``pytest_alembic.runner``) drives the
project's env.py over our connection, and its built-in ``test_single_head_revision``,
``test_up_down_consistency`` and ``test_model_definitions_match_ddl`` run unchanged through
:func:`pytest_alembic_context`. Two checks are our own, and why:

* upgrade from empty: pytest-alembic's ``test_upgrade`` reports database errors raised inside a
  revision without naming the revision; :meth:`MigrationRunner.upgrade` steps one revision at a
  time and names it (and records the duration).
* downgrade leaves no trace: pytest-alembic's experimental ``test_downgrade_leaves_no_trace``
  compares autogenerate output, which is blind to enum types, functions, triggers and CHECK
  constraints; :func:`check_each_revision_round_trip` compares full catalogue snapshots
  (:mod:`.catalogue`) before the upgrade and after the downgrade of every revision.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest_alembic
from pytest_alembic.plugin.error import AlembicTestFailure
from pytest_alembic.tests import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
)
from sqlalchemy import MetaData

from ..findings import FindingError
from ..strategies import read_live_schema
from .diff import Difference, diff_live_schemas
from .runner import MigrationRunner, MultipleHeadsError

__all__ = [
    "DowngradeTraceError",
    "check_each_revision_round_trip",
    "check_model_definitions_match_ddl",
    "check_single_head",
    "check_up_down_consistency",
    "check_upgrade_from_empty",
    "pytest_alembic_context",
]


class DowngradeTraceError(FindingError):
    """A revision's downgrade did not restore the schema it started from (or a re-upgrade
    built a different one); names the revision and each object left behind or lost."""

    def __init__(self, revision: str, step: str, differences: list[Difference]) -> None:
        self.revision = revision
        self.differences = differences
        lines = "\n  ".join(str(d) for d in differences)
        super().__init__(f"revision {revision}: {step}:\n  {lines}")


@contextlib.contextmanager
def pytest_alembic_context(
    runner: MigrationRunner, target_metadata: MetaData | None = None
) -> Iterator[pytest_alembic.MigrationContext]:
    """Yield a pytest-alembic ``MigrationContext`` over ``runner``'s project and database.

    Everything it runs shares one connection, committed on success and rolled back on error.
    ``target_metadata`` is put in ``config.attributes["target_metadata"]`` for env.py files that
    read it there.
    """
    with runner.connect() as connection:
        cfg = runner.config(connection)
        config = pytest_alembic.Config(
            alembic_config=cfg, config_options={"target_metadata": target_metadata}
        )
        with runner.running_env(cfg), pytest_alembic.runner(config=config,
                                                            engine=connection) as context:
            yield context
        connection.commit()


def check_single_head(runner: MigrationRunner) -> None:
    """Pass if the history has one head (pytest-alembic's ``test_single_head_revision``).

    Raises :class:`~.runner.MultipleHeadsError` naming every head and its down revision.
    """
    with pytest_alembic_context(runner) as context:
        try:
            test_single_head_revision(context)
        except AlembicTestFailure as exc:
            raise MultipleHeadsError(runner.heads()) from exc


def check_upgrade_from_empty(runner: MigrationRunner) -> float:
    """Upgrade the (empty) database to head one revision at a time; return the seconds taken.

    Raises :class:`~.runner.MigrationError` naming the revision that failed, or
    :class:`~.runner.MultipleHeadsError`.
    """
    return runner.timed("upgrade head", runner.upgrade("head"))


def check_up_down_consistency(runner: MigrationRunner) -> None:
    """pytest-alembic's ``test_up_down_consistency``: all the way up, down, and up again.

    Raises ``AlembicTestFailure`` naming the failing revision.
    """
    with pytest_alembic_context(runner) as context:
        test_up_down_consistency(context)


def check_model_definitions_match_ddl(
    runner: MigrationRunner, target_metadata: MetaData | None = None
) -> None:
    """pytest-alembic's ``test_model_definitions_match_ddl`` (``alembic check`` via env.py).

    Needs an env.py that sets ``target_metadata``. Raises ``AlembicTestFailure`` with the
    upgrade autogenerate would write.
    """
    with pytest_alembic_context(runner, target_metadata) as context:
        test_model_definitions_match_ddl(context)


def check_each_revision_round_trip(runner: MigrationRunner) -> dict[str, float]:
    """For each revision R in order: upgrade to R, downgrade to R's parent, upgrade to R again.

    The catalogue before R's upgrade must equal the catalogue after R's downgrade (tables,
    columns, indexes, constraints, enum types, functions, triggers, sequences), and the second
    upgrade must build the same catalogue as the first. The database must start empty. Returns
    the seconds each revision's downgrade took. Raises :class:`DowngradeTraceError` naming the
    revision and each object, or :class:`~.runner.MigrationError` if a step fails.
    """
    durations: dict[str, float] = {}
    for revision in runner.revisions():
        previous = runner.previous(revision)
        label = runner.describe(revision)
        with runner.connect() as connection:
            before = read_live_schema(connection)
        runner.upgrade(revision)
        with runner.connect() as connection:
            after_up = read_live_schema(connection)
        durations[revision] = runner.downgrade(previous)
        with runner.connect() as connection:
            after_down = read_live_schema(connection)
        trace = diff_live_schemas(before, after_down, f"before {revision}", "after its downgrade")
        if trace:
            raise DowngradeTraceError(label, "downgrade leaves a trace", trace)
        runner.upgrade(revision)
        with runner.connect() as connection:
            again = read_live_schema(connection)
        drift = diff_live_schemas(after_up, again, "first upgrade", "upgrade after downgrade")
        if drift:
            raise DowngradeTraceError(label, "re-upgrade builds a different schema", drift)
    return durations
