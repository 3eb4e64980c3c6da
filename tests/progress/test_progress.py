"""The budget and progress plugin (schemafuzz.progress): max_examples shrinks as the budget
runs out, tests past the budget are skipped naming it, and a progress line appears while long
tests run, in one process and from the xdist controller. Child runs leave the schemafuzz plugin
out (``-p no:schemafuzz``): no database is needed here."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from schemafuzz.progress import Budget, format_progress, parse_budget

SIX_SLOW_PROPERTIES = """
import time, pytest
from hypothesis import given, settings, strategies as st

@pytest.mark.parametrize("i", range(6))
@given(x=st.integers())
@settings(max_examples=200, deadline=None, database=None)
def test_slow(i, x):
    time.sleep(0.01)
"""

SLOW_THEN_MORE = """
import time
from hypothesis import given, settings, strategies as st

def test_a_slow_setup_step():
    time.sleep(1.0)

@given(st.integers())
@settings(max_examples=5, database=None)
def test_b_property(x):
    pass

def test_c_plain():
    pass
"""

ONE_LONG_PROPERTY_AND_A_MACHINE = """
import time
from hypothesis import given, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

@given(st.integers())
@settings(max_examples=250, deadline=None, database=None)
def test_long(x):
    time.sleep(0.01)

class Machine(RuleBasedStateMachine):
    @rule()
    def step(self):
        pass

Machine.TestCase.settings = settings(max_examples=7, stateful_step_count=3, database=None)
TestMachine = Machine.TestCase
"""


def _run(tmp_path: Path, source: str, *args: str, **env: str
         ) -> tuple[subprocess.CompletedProcess[str], float]:
    (tmp_path / "test_child.py").write_text(source)
    child_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
    child_env.update(env)
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "test_child.py", "-q", "-rs", "-p", "no:cacheprovider",
         "-p", "no:schemafuzz", "-p", "schemafuzz.progress", "--rootdir", str(tmp_path),
         "--junitxml", "junit.xml", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=child_env,
    )
    return result, time.perf_counter() - began


def _properties(tmp_path: Path) -> dict[str, dict[str, str]]:
    tree = ET.parse(tmp_path / "junit.xml")
    return {case.get("name", ""): {p.get("name", ""): p.get("value", "")
                                   for p in case.iter("property")}
            for case in tree.iter("testcase")}


# --- the rules, without pytest --------------------------------------------------------------

def test_budget_text_is_minutes() -> None:
    assert parse_budget(None) is None and parse_budget(" ") is None
    assert parse_budget("30") == 1800 and parse_budget("0.5") == 30
    for bad in ("0", "-3", "soon", "nan", "inf"):
        with pytest.raises(pytest.UsageError, match="SCHEMAFUZZ_BUDGET_MINUTES"):
            parse_budget(bad)


def test_max_examples_shrink_with_the_time_left() -> None:
    budget = Budget(seconds=100, start=0.0)
    budget.measured(seconds=10, examples=1000)  # 10 ms per example
    assert budget.max_examples(2000, tests_left=10, now=0) == 1000  # 10 s each fits 1000
    assert budget.max_examples(500, tests_left=10, now=0) == 500  # never raised
    assert budget.max_examples(2000, tests_left=10, now=90) == 100
    assert budget.max_examples(2000, tests_left=10, now=99.9) == 10  # a floor of 10...
    assert budget.max_examples(4, tests_left=10, now=99.9) == 4  # ...or the test's own
    assert budget.skip_reason(99.9) is None
    reason = budget.skip_reason(100.5)
    assert reason is not None and "SCHEMAFUZZ_BUDGET_MINUTES=1.66667" in reason


def test_progress_line_names_everything() -> None:
    assert format_progress(12, 40, 3412, 245, 1800) == (
        "schemafuzz progress: 12/40 tests, 3,412 examples, 4m05s elapsed, "
        "budget 30m00s: 25m55s left")
    assert format_progress(0, None, 0, 3725) == (
        "schemafuzz progress: 0/? tests, 0 examples, 1h02m05s elapsed")


# --- real runs ------------------------------------------------------------------------------

def test_budget_scales_examples_down_and_every_test_runs(tmp_path: Path) -> None:
    # At full size: 6 x 200 x 10 ms = 12 s. The budget is 3 s.
    result, seconds = _run(tmp_path, SIX_SLOW_PROPERTIES, SCHEMAFUZZ_BUDGET_MINUTES="0.05")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout
    cases = _properties(tmp_path)
    allowed = [int(c["schemafuzz_max_examples"]) for c in cases.values()]
    ran = [int(c["schemafuzz_examples"]) for c in cases.values()]
    assert len(allowed) == 6 and all(10 <= n < 200 for n in allowed), allowed
    assert all(r >= a for r, a in zip(ran, allowed, strict=True)), (ran, allowed)
    assert seconds < 3 + 4, seconds  # the budget, plus interpreter start-up and collection
    assert "schemafuzz progress: 6/6 tests" in result.stdout


def test_tests_past_the_budget_are_skipped_with_the_budget_named(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, SLOW_THEN_MORE, SCHEMAFUZZ_BUDGET_MINUTES="0.01")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    assert re.search(r"SKIPPED \[2\] .*SCHEMAFUZZ_BUDGET_MINUTES=0.01: the 0.01-minute budget "
                     r"is spent \(0m01s elapsed\); test not run", result.stdout), result.stdout
    assert "schemafuzz budget: 2 tests skipped" in result.stdout


def test_no_budget_changes_nothing(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, SLOW_THEN_MORE.replace("time.sleep(1.0)", "pass"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    assert "schemafuzz progress" not in result.stdout  # dev profile, no budget: quiet
    assert _properties(tmp_path)["test_b_property"] == {"schemafuzz_examples": "5"}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_progress_line_while_a_long_property_runs(tmp_path: Path, workers: list[str]) -> None:
    result, _ = _run(tmp_path, ONE_LONG_PROPERTY_AND_A_MACHINE, *workers,
                     SCHEMAFUZZ_PROGRESS_SECONDS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = re.findall(r"schemafuzz progress: (\d+)/(\?|\d+) tests, (\d+) examples",
                       result.stdout)
    assert len(lines) >= 3, result.stdout  # the long test takes ~2.5 s, printing each second
    assert lines[-1] == ("2", "2", str(250 + 7)), result.stdout  # final: examples of both
    if not workers:
        # In one process the running test's examples show while it runs.
        assert any(0 < int(n) < 250 for _, _, n in lines[:-1]), result.stdout
    cases = _properties(tmp_path)
    assert cases["test_long"]["schemafuzz_examples"] == "250"
    assert cases["runTest"]["schemafuzz_examples"] == "7"


READS_THE_PROGRESS_THREADS_MASK = """
import signal, threading
from pathlib import Path

def test_mask():
    [watcher] = [t for t in threading.enumerate() if t.name == "schemafuzz-progress"]
    status = Path(f"/proc/self/task/{watcher.native_id}/status").read_text()
    blocked = int(next(line for line in status.splitlines()
                       if line.startswith("SigBlk:")).split()[1], 16)
    assert blocked & (1 << (signal.SIGINT - 1)), status
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads Linux's /proc")
def test_the_progress_thread_leaves_ctrl_c_to_the_main_thread(tmp_path: Path) -> None:
    """A SIGINT the kernel gave the progress thread would wait for the main thread's current
    call to return (a one-minute hang was seen): the thread blocks it."""
    result, _ = _run(tmp_path, READS_THE_PROGRESS_THREADS_MASK, SCHEMAFUZZ_PROGRESS_SECONDS="1")
    assert result.returncode == 0, result.stdout + result.stderr
