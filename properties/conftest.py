"""Parametrisation of the generic properties over the models named by ``--models``.

``strategies`` and the modules that use it are imported inside the hooks, not at the top:
importing them while pytest loads conftest files makes Hypothesis build its character tables
during start-up, which it warns about.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from properties.report import Ledger

if TYPE_CHECKING:
    from properties.checks import Tallies


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = set(metafunc.fixturenames)
    if not names & {"table_model", "violable", "fk_target", "db_enforced"}:
        return
    from properties.targets import (
        enforced_on_flush,
        foreign_keys,
        import_models,
        table_models,
        violable_constraints,
    )

    # Every list is sorted by test id: xdist workers must collect the same tests in the same
    # order, and catalogue order can follow set iteration, which differs between processes.
    models = table_models(import_models(metafunc.config))
    if "table_model" in names:
        metafunc.parametrize("table_model", models, ids=[m.__table__.name for m in models])
    if "violable" in names:
        violable = sorted(violable_constraints(models)[0], key=lambda v: v.test_id)
        metafunc.parametrize("violable", violable, ids=[v.test_id for v in violable])
    if "db_enforced" in names:
        enforced = sorted((v for v in violable_constraints(models)[0] if enforced_on_flush(v)),
                          key=lambda v: v.test_id)
        metafunc.parametrize("db_enforced", enforced, ids=[v.test_id for v in enforced])
    if "fk_target" in names:
        fks = sorted(foreign_keys(models), key=lambda f: f.test_id)
        metafunc.parametrize("fk_target", fks, ids=[f.test_id for f in fks])


@pytest.fixture
def tallies(request: pytest.FixtureRequest, coverage_ledger: Ledger) -> Iterator[Tallies]:
    """Per-criterion counts for this test; each criterion counted becomes one measurement
    (SC-002, SC-007, SC-008, ...) in the validation report when the test ends."""
    from properties.checks import Tallies

    counts = Tallies()
    yield counts
    for criterion, tally in counts.items():
        coverage_ledger.measure(criterion, passed=tally.ok, figure=tally.figure(),
                                measured_by=request.node.nodeid)
