"""Stateful properties: sequences of creates, updates and deletes through the ORM and raw SQL,
valid and violating, after each of which the database must equal a plain-Python model of the
expected state (no orphans, every stored row valid, timestamps in order).

A machine is not a ``@given`` test, so the plugin's per-example savepoint does not apply: each
machine opens its own SAVEPOINT in ``__init__`` and rolls it back in ``teardown``. Settings come
from the active profile (``max_examples`` runs of ``stateful_step_count`` steps).
"""

from __future__ import annotations

from typing import Any

import pytest

from properties.checks import Tallies
from properties.harness import Sandbox
from properties.report import Ledger
from properties.stateful import MachineContext, generic_machine, reference_machine, run_machine
from properties.targets import is_reference_backend, table_models

pytestmark = pytest.mark.filterwarnings("ignore::strategies.SkippedConstraintWarning")


def test_generic_machine_keeps_the_database_equal_to_the_model(
        db: Sandbox, models_module: Any, coverage_ledger: Ledger, tallies: Tallies) -> None:
    context = MachineContext(db, coverage_ledger, tallies)
    machine = generic_machine(context, table_models(models_module))
    run_machine(machine)
    print(context.summary())


def test_reference_domain_machine(pytestconfig: pytest.Config, db: Sandbox,
                                  coverage_ledger: Ledger, tallies: Tallies) -> None:
    if not is_reference_backend(pytestconfig):
        pytest.skip("app-specific: users, tasks, conversations and messages of the reference "
                    "backend (--models backend.app.models)")
    context = MachineContext(db, coverage_ledger, tallies)
    run_machine(reference_machine(context))
    print(context.summary())
