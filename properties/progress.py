"""Time budget and progress line for long runs (the ``nightly`` profile), as a pytest plugin.

Registered by ``schemafuzz.plugin`` in runs where schemafuzz is active. Two jobs:

**Progress.** With the ``nightly`` profile, a budget, or ``SCHEMAFUZZ_PROGRESS_SECONDS`` set, a
line like ``schemafuzz progress: 12/40 tests, 3,412 examples, 4m05s elapsed, budget 30m: 25m55s
left`` is printed every ``SCHEMAFUZZ_PROGRESS_SECONDS`` (default 30, so at least once a minute),
also while one long test runs (a watchdog thread prints when no test has finished). Examples are
counted by wrapping each ``@given`` test's ``hypothesis.inner_test`` (the hook Hypothesis offers
plugins; ``schemafuzz.plugin`` wraps it the same way) and, for ``RuleBasedStateMachine`` tests,
the machine's ``__init__`` (one machine per example): a counter increment per example, far
cheaper than Hypothesis' observability callbacks, which serialise every test case. Under
pytest-xdist the controller prints: workers send each test's count in
``report.user_properties`` (``schemafuzz_examples``), so a running test's examples are counted
when it finishes. The same properties land in the JUnit XML.

**Budget** (``SCHEMAFUZZ_BUDGET_MINUTES``, any profile; wall time from the start of the run).
Rather than run every test at full size and skip the tail, ``max_examples`` is scaled down as
the budget runs out, so every property still gets exercised:

* before each Hypothesis test: ``share = time left / tests left`` (tests left in this process:
  under xdist the collection index tells how far the run is, divided by the worker count);
  ``max_examples = clamp(share / seconds per example, 10, the test's own max_examples)``, where
  seconds per example is measured over this process' finished Hypothesis tests (20 ms assumed
  before the first). Fast non-Hypothesis tests leave their share unused, and the next test's
  share grows: the estimate corrects itself at every test. It only ever lowers max_examples.
* once the budget is spent, the remaining tests are skipped, the reason naming the budget.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pytest

from schemafuzz.harness.profiles import choose_profile
from schemafuzz.subject import UNDER_TEST_KEY

__all__ = [
    "BUDGET_VARIABLE",
    "EXAMPLES_PROPERTY",
    "INTERVAL_VARIABLE",
    "Budget",
    "format_progress",
    "parse_budget",
]

BUDGET_VARIABLE = "SCHEMAFUZZ_BUDGET_MINUTES"
INTERVAL_VARIABLE = "SCHEMAFUZZ_PROGRESS_SECONDS"
EXAMPLES_PROPERTY = "schemafuzz_examples"  # report.user_properties: examples a test ran
SCALED_PROPERTY = "schemafuzz_max_examples"  # ...and the max_examples the budget allowed
SKIPPED_PROPERTY = "schemafuzz_budget_skipped"

_DEFAULT_INTERVAL = 30.0
_ASSUMED_SECONDS_PER_EXAMPLE = 0.02  # until this process has measured its own
_MIN_EXAMPLES = 10
_START_KEY = "schemafuzz_progress_start"  # workerinput: the controller's start (epoch seconds)


def parse_budget(text: str | None) -> float | None:
    """Return the budget in seconds from ``SCHEMAFUZZ_BUDGET_MINUTES`` text, None when unset.

    Raises pytest.UsageError for anything but a positive number of minutes.
    """
    if text is None or not text.strip():
        return None
    try:
        minutes = float(text)
    except ValueError:
        minutes = math.nan
    if not math.isfinite(minutes) or minutes <= 0:
        raise pytest.UsageError(
            f"{BUDGET_VARIABLE}={text!r}: expected a positive number of minutes, e.g. 30"
        )
    return minutes * 60


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def format_progress(done: int, total: int | None, examples: int, elapsed: float,
                    budget: float | None = None) -> str:
    """Return the progress line: tests done / total (``?`` while collecting), examples so
    far, elapsed time, and what is left of the budget."""
    line = (f"schemafuzz progress: {done}/{total or '?'} tests, {examples:,} examples, "
            f"{_clock(elapsed)} elapsed")
    if budget is not None:
        line += f", budget {_clock(budget)}: {_clock(budget - elapsed)} left"
    return line


@dataclass
class Budget:
    """Scales ``max_examples`` to the time left; see the module docstring for the rule."""

    seconds: float
    start: float
    workers: int = 1
    spent_in_examples: float = 0.0
    examples: int = 0
    scaled: int = 0

    def left(self, now: float) -> float:
        """Return the seconds of budget left at ``now`` (negative once spent)."""
        return self.start + self.seconds - now

    def skip_reason(self, now: float) -> str | None:
        """Return why a test is not run (the budget is spent), or None when there is time."""
        if self.left(now) > 0:
            return None
        minutes = f"{self.seconds / 60:g}"
        return (f"{BUDGET_VARIABLE}={minutes}: the {minutes}-minute budget is spent "
                f"({_clock(now - self.start)} elapsed); test not run")

    def max_examples(self, wanted: int, tests_left: float, now: float) -> int:
        """Return the max_examples for the next Hypothesis test: at most ``wanted``, at least
        ``min(10, wanted)``; ``tests_left`` counts the next test too."""
        per_example = (self.spent_in_examples / self.examples if self.examples
                       else _ASSUMED_SECONDS_PER_EXAMPLE)
        share = max(0.0, self.left(now)) / max(1.0, tests_left)
        fitting = int(share / max(per_example, 1e-6))
        return max(min(_MIN_EXAMPLES, wanted), min(wanted, fitting))

    def measured(self, seconds: float, examples: int) -> None:
        """Add a finished Hypothesis test's duration and examples to the rate estimate."""
        if examples:
            self.spent_in_examples += seconds
            self.examples += examples


@dataclass
class _Counter:
    value: int = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.value += 1
            return function(*args, **kwargs)

        counted.__dict__.update(getattr(function, "__dict__", {}))
        counted.__name__ = getattr(function, "__name__", "counted")
        counted.__wrapped__ = function  # type: ignore[attr-defined]
        return counted


def _settings_for(item: pytest.Item, budget: Budget | None, tests_left: float
                  ) -> tuple[Callable[[], None], int | None]:
    """Lower the item's Hypothesis max_examples under the budget. Returns a function undoing
    it and the max_examples applied (None when unchanged)."""
    from hypothesis import settings

    if budget is None:
        return (lambda: None), None
    function = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
    owner: Any = None
    name = ""
    if getattr(function, "hypothesis", None) is not None:
        owner, name = function, "_hypothesis_internal_use_settings"
    elif _machine_of(item) is not None:
        owner, name = item.cls, "settings"  # type: ignore[attr-defined]
    current = getattr(owner, name, None) if owner is not None else None
    if not isinstance(current, settings):
        return (lambda: None), None
    wanted = current.max_examples
    allowed = budget.max_examples(wanted, tests_left, time.time())
    if allowed >= wanted:
        return (lambda: None), None
    setattr(owner, name, settings(current, max_examples=allowed))
    budget.scaled += 1
    return (lambda: setattr(owner, name, current)), allowed


def _machine_of(item: pytest.Item) -> type | None:
    cls = getattr(item, "cls", None)
    run = getattr(cls, "runTest", None)
    machine = getattr(run, "_hypothesis_state_machine_class", None)
    return machine if isinstance(machine, type) else None


@contextmanager
def _counting(item: pytest.Item, counter: _Counter) -> Iterator[bool]:
    """Count the item's examples into ``counter`` while the block runs; yields whether the
    item is a Hypothesis test at all."""
    handle = getattr(getattr(item, "obj", None), "hypothesis", None)
    inner = getattr(handle, "inner_test", None)
    if handle is not None and inner is not None:
        handle.inner_test = counter.wrap(inner)
        try:
            yield True
        finally:
            handle.inner_test = inner
        return
    machine = _machine_of(item)
    if machine is None:
        yield False
        return
    own_init = machine.__dict__.get("__init__")
    machine.__init__ = counter.wrap(machine.__init__)  # type: ignore[misc]
    try:
        yield True
    finally:
        if own_init is None:
            del machine.__init__  # type: ignore[misc]
        else:
            machine.__init__ = own_init  # type: ignore[misc]


@dataclass(eq=False)  # registered as a pytest plugin, so it must stay hashable
class _Progress:
    """Per-process state: budget and counting everywhere; printing where reports arrive (the
    xdist controller, or the single process)."""

    config: pytest.Config
    budget: Budget | None
    start: float
    interval: float
    printing: bool
    done: int = 0
    finished_examples: int = 0
    budget_skipped: int = 0
    live: _Counter | None = None
    last_print: float = 0.0
    index: dict[str, int] = field(default_factory=dict)
    session: pytest.Session | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _fd: int | None = None
    _width_at_print: int = 0

    def __post_init__(self) -> None:
        if self.printing:
            try:
                self._fd = os.dup(sys.stdout.fileno())
            except (OSError, ValueError, AttributeError):
                self._fd = None  # no real stdout (e.g. in-process pytest): use the reporter

    # --- counting and budget (in-process and workers) -----------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session
        self.last_print = time.time()
        if self.printing and self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="schemafuzz-progress",
                                            daemon=True)
            self._thread.start()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.index = {item.nodeid: i for i, item in enumerate(session.items)}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        reason = self.budget.skip_reason(time.time()) if self.budget else None
        if reason is not None:
            item.user_properties.append((SKIPPED_PROPERTY, 1))
            pytest.skip(reason)

    def _tests_left(self, item: pytest.Item) -> float:
        total = len(self.index) or 1
        position = self.index.get(item.nodeid, 0)
        workers = self.budget.workers if self.budget else 1
        return (total - position) / workers

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        counter = _Counter()
        undo, allowed = _settings_for(item, self.budget, self._tests_left(item))
        began = time.perf_counter()
        self.live = counter
        is_hypothesis = False
        try:
            with _counting(item, counter) as is_hypothesis:
                return (yield)
        finally:
            undo()
            self.live = None
            if is_hypothesis:
                if self.budget is not None:
                    self.budget.measured(time.perf_counter() - began, counter.value)
                item.user_properties.append((EXAMPLES_PROPERTY, counter.value))
                if allowed is not None:
                    item.user_properties.append((SCALED_PROPERTY, allowed))

    # --- printing (single process or xdist controller) ----------------------------------

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        properties: dict[str, Any] = dict(report.user_properties)
        with self._lock:
            self.done += 1
            self.finished_examples += int(properties.get(EXAMPLES_PROPERTY, 0))
            self.budget_skipped += int(properties.get(SKIPPED_PROPERTY, 0))
        if self.printing and time.time() - self.last_print >= self.interval:
            self._print()

    def line(self) -> str:
        """Return the current progress line."""
        live = self.live.value if self.live is not None else 0
        total = getattr(self.session, "testscollected", None)
        seconds = self.budget.seconds if self.budget else None
        return format_progress(self.done, total, self.finished_examples + live,
                               time.time() - self.start, seconds)

    def _print(self) -> None:
        with self._lock:
            self.last_print = time.time()
            text = self.line()
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if self._fd is None:
                if reporter is not None:
                    reporter.write_line(text)
                return
            # Straight to the terminal: while a test runs, pytest captures fd 1 (the watchdog
            # prints then), so this writes to a copy of the terminal's fd taken at configure.
            writer = getattr(reporter, "_tw", None)
            if threading.current_thread() is threading.main_thread() and writer is not None:
                writer.flush()
            # Start on a new line if pytest wrote on the current one since our last line.
            width = getattr(writer, "width_of_current_line", 0)
            prefix = "\n" if width and width != self._width_at_print else ""
            self._width_at_print = width
            with suppress(OSError):  # the terminal went away; progress is a courtesy
                os.write(self._fd, f"{prefix}{text}\n".encode())

    def _watch(self) -> None:
        # A long test reports nothing for minutes: print from here when no report did.
        # Ctrl-C must reach the main thread: a SIGINT the kernel hands to this thread only
        # sets Python's flag, and a main thread asleep or waiting on PostgreSQL would not see
        # it until that call returned (seen: a run that ignored SIGINT for a whole minute).
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        while not self._stop.wait(1.0):
            if time.time() - self.last_print >= self.interval:
                self._print()

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.printing:
            return
        self._stop.set()
        with self._lock:
            terminalreporter.write_line(self.line())
        if self.budget is not None:
            terminalreporter.write_line(
                f"schemafuzz budget: {self.budget_skipped} tests skipped when the budget was "
                "spent; tests that ran with fewer examples carry "
                f"'{SCALED_PROPERTY}' in the JUnit XML"
                + (f" ({self.budget.scaled} in this process)" if self.budget.scaled else "")
            )

    def pytest_unconfigure(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class _XdistStart:
    """Gives workers the controller's start time, so the budget is one wall clock."""

    def __init__(self, start: float) -> None:
        self.start = start

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[_START_KEY] = self.start


def _interval() -> float:
    text = os.environ.get(INTERVAL_VARIABLE, "")
    try:
        value = float(text) if text.strip() else _DEFAULT_INTERVAL
    except ValueError:
        raise pytest.UsageError(
            f"{INTERVAL_VARIABLE}={text!r}: expected seconds, e.g. 30") from None
    return max(1.0, value)


def pytest_configure(config: pytest.Config) -> None:
    budget_seconds = parse_budget(os.environ.get(BUDGET_VARIABLE))
    under_test = config.stash.get(UNDER_TEST_KEY, None)  # None: loaded on its own (-p)
    profile = under_test.profile if under_test is not None else choose_profile(None)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    start = float(workerinput.get(_START_KEY, time.time())) if workerinput else time.time()
    workers = int(workerinput.get("workercount", 1)) if workerinput else 1
    budget = Budget(budget_seconds, start, workers) if budget_seconds is not None else None
    wanted = (budget is not None or profile == "nightly"
              or bool(os.environ.get(INTERVAL_VARIABLE)))
    progress = _Progress(config, budget, start, _interval(),
                         printing=wanted and workerinput is None)
    config.pluginmanager.register(progress, "schemafuzz-progress")
    if workerinput is None and config.pluginmanager.has_plugin("xdist"):
        config.pluginmanager.register(_XdistStart(start), "schemafuzz-progress-xdist")
