"""What every machine shares: the sandbox it runs in (one SAVEPOINT per run, rolled back in
``teardown``, so each run starts from an empty schema), ORM sessions that never outlive a step,
and failing with a finding that the coverage report records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import pytest
import sqlalchemy as sa
from hypothesis import event, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from schemafuzz.findings import Finding
from schemafuzz.harness import Sandbox, sqlstate_of
from schemafuzz.outcomes import Tallies, Tally
from schemafuzz.report import Ledger
from schemafuzz.shrink_budget import ShrinkBudget, run_within_budget
from schemafuzz.verdicts import finding_cause

if TYPE_CHECKING:
    from schemafuzz.fixtures import Verdict

__all__ = ["MachineContext", "SandboxMachine", "a_via", "orm_refusal", "refusal_message",
           "run_machine"]


@dataclass
class MachineContext:
    """What a machine class is bound to: the sandbox, the report's ledger, the test's
    success-criterion tallies, and whether the models are the reference backend."""

    db: Sandbox
    ledger: Ledger
    tallies: Tallies = field(default_factory=Tallies)
    steps: Counter[str] = field(default_factory=Counter)
    reference_backend: bool = False  # its spec declares rules no schema object states
    verdict: Verdict | None = None  # the test's root causes: findings already reported
    shrink_seconds: float | None = None  # a finding's shrinking budget; None: 0.75 s a step
    shrink: ShrinkBudget | None = None  # the running machine's budget (set by run_machine)

    @property
    def cascades(self) -> Tally:
        """The SC-008 counts (children removed with their parents)."""
        return self.tallies["SC-008"]

    def summary(self) -> str:
        """The outcomes counted so far, one per line, most frequent first."""
        return "\n".join(f"{n:6d}  {what}" for what, n in self.steps.most_common())


def a_via(via: str) -> str:
    """``"an ORM"`` or ``"a SQL"``, for messages such as "an ORM delete of ..."."""
    return "an ORM" if via == "orm" else "a SQL"


def orm_refusal(error: Exception) -> str:
    """How an ORM flush failed: the SQLSTATE for a database error, else the SQLAlchemy or
    Python error's class name (a client-side refusal)."""
    if isinstance(error, DBAPIError):
        return sqlstate_of(error) or "driver error"
    return f"refused by SQLAlchemy ({type(error).__name__}: {' '.join(str(error).split())[:120]})"


def refusal_message(error: Exception) -> str:
    """The words of a refusal for a finding: PostgreSQL's message and DETAIL for a database
    error (not SQLAlchemy's statement and parameters, which cut a short message mid-SQL),
    else the error's own text; on one line, at most 300 characters."""
    text = str(error.orig) if isinstance(error, DBAPIError) and error.orig is not None \
        else str(error)
    return " ".join(text.split())[:300]


ORM_ERRORS = (SQLAlchemyError, LookupError, ValueError, TypeError)

_RESTART_SEQUENCES = sa.text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
    "FROM pg_sequences WHERE schemaname = current_schema()")


class SandboxMachine(RuleBasedStateMachine):
    """A state machine bound to a sandbox by a subclass's ``context`` class attribute."""

    context: ClassVar[MachineContext]

    def __init__(self) -> None:
        super().__init__()
        if self.context.shrink is not None:
            self.context.shrink.check()  # before this run draws or touches the database
        self.db = self.context.db
        self._run = self.db.connection.begin_nested()
        self.db.recorder.start_example()
        # Every run starts its sequences where the schema starts them: a rollback does not
        # undo nextval(), so a serial key would otherwise differ from run to run, a drawn key
        # collide in one run and not in its replay, and Hypothesis stop the test as flaky
        # (FlakyStrategyDefinition) where the app has no bug.
        self.db.connection.execute(_RESTART_SEQUENCES)

    def teardown(self) -> None:
        if self._run.is_active:
            self._run.rollback()

    @contextmanager
    def orm(self) -> Iterator[Session]:
        """A session for one step; closed (its savepoint rolled back unless committed) after."""
        session = self.db.session()
        try:
            yield session
        finally:
            session.close()

    def count(self, what: str) -> None:
        """Count an outcome (``"tasks insert: stored"``) for this run's summary, and as a
        Hypothesis event."""
        self.context.steps[what] += 1
        event(what)

    def fail(self, finding: Finding, kind: str = "stateful", tally: Tally | None = None
             ) -> NoReturn:
        """Record ``finding`` in the coverage report and fail the run with it; skip the run
        instead when an earlier test reported the same rule of the same column (one failure
        per root cause)."""
        if self.context.verdict is not None:
            self.context.verdict.check_cause(finding_cause(finding))
        if tally is not None:
            tally.ok = False
        if self.context.shrink is not None:
            self.context.shrink.failed(str(finding))
        ledger = self.context.ledger
        ledger.declare(finding.table, finding.column, finding.rule, kind, list(finding.layers))
        ledger.finding(finding.table, finding.column, finding.rule, finding.note)
        self.db.recorder.mark_failed()
        pytest.fail(str(finding), pytrace=False)

    def read_rows(self, table: sa.Table) -> list[dict[str, Any]]:
        """Every row of ``table`` as column name -> value."""
        result = self.db.connection.execute(sa.select(*table.c))
        return [{c.name: row._mapping[c] for c in table.c} for row in result]


def run_machine(machine: type[SandboxMachine]) -> None:
    """Run ``machine`` with the active profile's settings (``max_examples`` runs of up to
    ``stateful_step_count`` steps), shrinking a finding for at most its context's
    ``shrink_seconds`` (default 0.75 s per step of a run: 15 s in the dev profile, 75 s in
    nightly; see :mod:`schemafuzz.shrink_budget`).

    A finding fails the test with its message followed by the shortest program of steps
    Hypothesis printed (pytest hides exception notes of ``pytest.fail(pytrace=False)``), and a
    line saying so when the budget stopped shrinking.
    """
    active = settings()
    seconds = machine.context.shrink_seconds
    budget = ShrinkBudget(0.75 * active.stateful_step_count if seconds is None else seconds)
    machine.context.shrink = budget
    message: str | None = None
    try:
        run_within_budget(lambda chosen: run_state_machine_as_test(machine, settings=chosen),
                          active, budget)
    except pytest.fail.Exception as error:
        notes = getattr(error, "__notes__", [])
        if not notes:
            raise
        message = "\n".join([str(error), *notes, *([budget.note()] if budget.stopped else [])])
    finally:
        machine.context.shrink = None
    if message is not None:
        pytest.fail(message, pytrace=False)
