"""A per-finding shrinking budget, on Hypothesis' public API.

Hypothesis shrinks a failure for up to five minutes and has no setting for less (its
maintainers keep that limit internal: HypothesisWorks/hypothesis#3243). A stateful program
replays its database steps on every shrink attempt (~0.1 s each), so a finding could cost
minutes. Written here because no library bounds it, with public pieces only:

1. The test runs as usual, with an example database (the profile's, else one in memory),
   through a wrapper that notes saves: Hypothesis saves each smaller failing example as it
   shrinks.
2. The budget starts at the first failure. Once it is spent, every new example is rejected
   (``hypothesis.reject``) before it draws anything: the shrinker's candidates all fail to
   reproduce, and the run ends at once in ``Flaky``, which is the budget's doing and dropped.
3. A second run with ``phases=(Phase.reuse,)`` replays the smallest failing example saved,
   and fails with it as Hypothesis reports it (the program of steps, for a machine). A later
   run resumes shrinking from it, as Hypothesis does after its own five minutes.
4. Under a fixed seed (``--hypothesis-seed``) Hypothesis uses no example database: nothing
   is saved, so nothing shrunk could be kept. Shrinking then stops at once, and a run
   without shrinking generates the same examples again and fails with the first failure,
   unshrunk. Should that pass, the test fails with the first finding's message.
"""

from __future__ import annotations

import time
import unittest
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest
from hypothesis import Phase, reject, settings
from hypothesis.database import ExampleDatabase, InMemoryExampleDatabase
from hypothesis.errors import Flaky

__all__ = ["ShrinkBudget", "run_within_budget"]


@dataclass
class ShrinkBudget:
    """``seconds`` of shrinking after a test's first failure. ``stopped`` once the budget
    rejected examples; ``armed`` is False while the failure is replayed; ``saves`` counts the
    examples Hypothesis saved (0 under a fixed seed)."""

    seconds: float
    deadline: float | None = None
    stopped: bool = False
    armed: bool = True
    saves: int = 0
    first_failure: str = ""  # the message of the first failure, as the test gave it

    def failed(self, message: str = "") -> None:
        """Note that an example failed with ``message``; the first call starts the budget."""
        if self.armed and self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
            self.first_failure = message

    def check(self) -> None:
        """Call at the start of every example, before it draws: rejects the example
        (``hypothesis.reject``) once the budget is spent, or at once after a failure nothing
        could save; returns otherwise."""
        if not self.armed or self.deadline is None:
            return
        if self.saves == 0 or time.monotonic() >= self.deadline:
            self.stopped = True
            reject()

    def note(self) -> str:
        """The line a finding whose shrinking the budget stopped carries."""
        if self.saves == 0:
            return ("(not shrunk: under a fixed seed Hypothesis keeps no example database, "
                    "which bounded shrinking needs; run without --hypothesis-seed to shrink)")
        return (f"(shrinking stopped after its budget of {self.seconds:g} s, shrink_seconds "
                "in [tool.schemafuzz]; a re-run resumes from this example)")


class _NotingSaves(ExampleDatabase):
    """The run's example database, counting saves into the budget (Hypothesis saves every
    failing example it keeps)."""

    def __init__(self, inner: ExampleDatabase, budget: ShrinkBudget) -> None:
        super().__init__()
        self.inner, self.budget = inner, budget

    def save(self, key: bytes, value: bytes) -> None:
        self.budget.saves += 1
        self.inner.save(key, value)

    def fetch(self, key: bytes) -> Iterable[bytes]:
        return self.inner.fetch(key)

    def delete(self, key: bytes, value: bytes) -> None:
        self.inner.delete(key, value)

    def move(self, src: bytes, dest: bytes, value: bytes) -> None:
        self.budget.saves += 1
        self.inner.move(src, dest, value)


def run_within_budget(run: Callable[[settings], None], active: settings,
                      budget: ShrinkBudget) -> None:
    """Call ``run(settings)`` (a Hypothesis test run with those settings) so that shrinking
    its failure takes about ``budget.seconds``. Returns when the test holds; raises the
    test's failure, shrunk as far as the budget allowed (``budget.stopped`` says whether it
    cut shrinking short), or a ``pytest.fail`` saying so when the example no longer fails;
    raises ``Flaky`` when the test itself is flaky."""
    inner = active.database if active.database is not None else InMemoryExampleDatabase()
    first = settings(active, database=_NotingSaves(inner, budget))
    try:
        run(first)
        return
    except Flaky:
        if not budget.stopped:
            raise
    budget.armed = False
    try:
        if budget.saves == 0:
            raise unittest.SkipTest("nothing saved to replay")
        run(settings(first, phases=(Phase.reuse,)))
    except unittest.SkipTest:  # Hypothesis' own, too, when it has nothing to replay
        run(settings(first, phases=(Phase.explicit, Phase.generate)))
    pytest.fail(f"{budget.first_failure or 'a failure was found'}\n(shrinking it stopped after "
                f"its budget of {budget.seconds:g} s, and the example did not fail again when "
                "replayed: a flaky test, or state outside the example)", pytrace=False)
