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

from schemafuzz.fixtures import Verdict
from schemafuzz.harness import Sandbox
from schemafuzz.outcomes import Tallies
from schemafuzz.report import Ledger
from schemafuzz.stateful import MachineContext, generic_machine, reference_machine, run_machine
from schemafuzz.subject import table_models, under_test_of

pytestmark = pytest.mark.filterwarnings("ignore::schemafuzz.strategies.SkippedConstraintWarning")


def test_generic_machine_keeps_the_database_equal_to_the_model(
        pytestconfig: pytest.Config, schemafuzz_db: Sandbox, schemafuzz_models: Any,
        schemafuzz_ledger: Ledger, schemafuzz_tallies: Tallies, schemafuzz_verdict: Verdict
) -> None:
    models = list(table_models(schemafuzz_models))
    schemafuzz_verdict.check(str(model.__table__.name) for model in models)
    under_test = under_test_of(pytestconfig)
    context = MachineContext(schemafuzz_db, schemafuzz_ledger, schemafuzz_tallies,
                             reference_backend=under_test.reference_backend,
                             verdict=schemafuzz_verdict,
                             shrink_seconds=under_test.configuration.shrink_seconds)
    machine = generic_machine(context, models)
    run_machine(machine)
    print(context.summary())


def test_reference_domain_machine(pytestconfig: pytest.Config, schemafuzz_db: Sandbox,
                                  schemafuzz_ledger: Ledger, schemafuzz_tallies: Tallies,
                                  schemafuzz_verdict: Verdict) -> None:
    if not under_test_of(pytestconfig).reference_backend:
        pytest.skip("app-specific: users, tasks, conversations and messages of the reference "
                    "backend (reference_backend = true in [tool.schemafuzz])")
    schemafuzz_verdict.check(["users", "tasks", "conversations", "messages"])
    context = MachineContext(
        schemafuzz_db, schemafuzz_ledger, schemafuzz_tallies, reference_backend=True,
        verdict=schemafuzz_verdict,
        shrink_seconds=under_test_of(pytestconfig).configuration.shrink_seconds)
    run_machine(reference_machine(context))
    print(context.summary())
