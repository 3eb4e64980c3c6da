"""The shrinking budget (schemafuzz.shrink_budget): a failure is still reported, replayed from
the example database, when the budget cuts shrinking short; a flaky test stays Flaky; a test
that holds runs once."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from schemafuzz.configuration import ConfigurationError, read_configuration
from schemafuzz.shrink_budget import ShrinkBudget, run_within_budget

ACTIVE = settings(max_examples=100, stateful_step_count=30, deadline=None, database=None)


def _machine(budget: ShrinkBudget, limit: int, runs: list[int]) -> type[RuleBasedStateMachine]:
    class Adder(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            budget.check()
            runs.append(1)
            self.total = 0

        @rule(value=st.integers(0, 100))
        def add(self, value: int) -> None:
            self.total += value
            if self.total > limit:
                budget.failed()
                raise AssertionError(f"total {self.total} over {limit}")

    return Adder


def test_a_spent_budget_still_reports_the_failure_it_shrank_to() -> None:
    budget = ShrinkBudget(0)  # spent at the first failure: no shrinking at all
    runs: list[int] = []
    machine = _machine(budget, 300, runs)
    with pytest.raises(AssertionError, match="over 300") as caught:
        run_within_budget(lambda chosen: run_state_machine_as_test(machine, settings=chosen),
                          ACTIVE, budget)
    assert budget.stopped
    # The replayed failure is Hypothesis' own report, with the program of steps.
    assert any(note.startswith("state.add(") for note in caught.value.__notes__)
    assert "shrinking stopped after its budget of 0 s" in budget.note()


def test_a_budget_long_enough_lets_hypothesis_shrink_to_the_end() -> None:
    budget = ShrinkBudget(600)
    runs: list[int] = []
    machine = _machine(budget, 300, runs)
    with pytest.raises(AssertionError, match="over 300") as caught:
        run_within_budget(lambda chosen: run_state_machine_as_test(machine, settings=chosen),
                          ACTIVE, budget)
    assert not budget.stopped
    steps = [note for note in caught.value.__notes__ if note.startswith("state.add(")]
    assert len(steps) == 4, caught.value.__notes__  # 301 needs four adds of at most 100


def test_a_test_that_holds_runs_once_and_returns() -> None:
    budget = ShrinkBudget(0)
    runs: list[int] = []
    machine = _machine(budget, 10**9, runs)
    rounds: list[settings] = []

    def run(chosen: settings) -> None:
        rounds.append(chosen)
        run_state_machine_as_test(machine, settings=chosen)

    run_within_budget(run, ACTIVE, budget)
    # One Hypothesis run, with every phase: no replay round. (Its machine count is not a
    # bound: Hypothesis also runs examples that overrun or are invalid, beyond max_examples.)
    assert not budget.stopped and len(rounds) == 1 and runs
    assert rounds[0].phases == ACTIVE.phases


def test_a_flaky_test_is_reported_as_flaky_not_as_the_budget() -> None:
    calls: list[int] = []
    budget = ShrinkBudget(600)

    def flaky(chosen: settings) -> None:
        @settings(chosen, max_examples=5)
        @given(st.integers())
        def once(value: int) -> None:
            calls.append(value)
            if len(calls) == 1:
                raise AssertionError("fails once only")

        once()

    with pytest.raises(Flaky):
        run_within_budget(flaky, ACTIVE, budget)
    assert not budget.stopped


def test_with_no_database_to_replay_the_first_failure_is_generated_again() -> None:
    """Under --hypothesis-seed Hypothesis saves nothing (no database key), as here where the
    run drops the database: the replay has nothing to run, and the failure comes from
    generating the same examples again (derandomized), unshrunk."""
    budget = ShrinkBudget(0)
    runs: list[int] = []
    machine = _machine(budget, 300, runs)
    fixed = settings(ACTIVE, derandomize=True)
    with pytest.raises(AssertionError, match="over 300") as caught:
        run_within_budget(
            lambda chosen: run_state_machine_as_test(
                machine, settings=settings(chosen, database=None)), fixed, budget)
    assert budget.stopped
    assert any(note.startswith("state.add(") for note in caught.value.__notes__)


def test_shrink_seconds_comes_from_the_option_else_the_table(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.schemafuzz]\nmodels = "m"\nshrink_seconds = 40\n')
    assert read_configuration(pyproject, {}).shrink_seconds == 40.0
    assert read_configuration(pyproject, {"shrink_seconds": "2.5"}).shrink_seconds == 2.5
    pyproject.write_text('[tool.schemafuzz]\nmodels = "m"\n')
    assert read_configuration(pyproject, {}).shrink_seconds is None
    pyproject.write_text('[tool.schemafuzz]\nmodels = "m"\nshrink_seconds = true\n')
    with pytest.raises(ConfigurationError, match="number of seconds >= 0"):
        read_configuration(pyproject, {})
