"""A pytest plugin for the benchmarks' child runs: when the first failure happened and how many
examples each test ran, written as JSON to ``--bench-observe PATH``.

Loaded with ``-p bench._observe`` (``bench`` must be importable: the repository root on
``PYTHONPATH``). Examples are counted by wrapping ``test.hypothesis.inner_test``, the hook
Hypothesis gives plugins (``schemafuzz.plugin`` wraps it the same way for its per-example
savepoint): every call is one example, whether generated, replayed or tried while shrinking.
An example that raises anything but Hypothesis' own control flow (an unsatisfied ``assume``, a
filter giving up, the end of the data) or a skip has failed; the first one is the moment a
property caught the bug, before shrinking. Tests without Hypothesis count their first failed
report instead. ``--bench-no-shrink`` drops the shrink phase from the profile the suite loaded
(same examples, same verdict, no minimisation after the first failure). With
``--bench-statements PATH`` each example's SQL, as the sandbox's
statement recorder (``properties/harness/recorder.py``) rendered it, is written as a JSON line.

Hand-written rather than Hypothesis' observability callbacks: those build a representation of
every example's arguments, which doubled the run time of the properties.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pytest
from hypothesis.errors import Frozen, StopTest, UnsatisfiedAssumption

__all__ = ["Observer", "read_observations"]

_NOT_A_FAILURE: tuple[type[BaseException], ...] = (
    UnsatisfiedAssumption, StopTest, Frozen, pytest.skip.Exception)


class Observer:
    """Collects the examples of one pytest session and writes them to ``path``."""

    def __init__(self, path: Path, statements: Path | None = None) -> None:
        self.path = path
        self.first_failure: dict[str, Any] | None = None
        self.tests: dict[str, dict[str, float]] = {}  # nodeid -> calls, failed, seconds, ...
        # Connections whose driver time is being added up (held, so that ids stay unique).
        self._timed: dict[int, Any] = {}
        self._inside = False  # within an example's call
        self._counts: dict[str, float] | None = None  # the counts of the test it belongs to
        self._wrapped: tuple[Any, Any] | None = None  # (handle, inner test) while a test runs
        # One JSON line per example: the SQL its sandbox's recorder saw (for a replay).
        self.statements: TextIO | None = statements.open("w") if statements else None

    def _failed(self, nodeid: str, how: str) -> None:
        self.first_failure = {"at": time.time(), "nodeid": nodeid, "how": how}
        self.write()  # now: the run may be stopped before it ends

    def _counting(self, nodeid: str, inner: Callable[..., Any]) -> Callable[..., Any]:
        counts = self.tests.setdefault(nodeid, {"calls": 0, "failed": 0, "seconds": 0.0})

        @functools.wraps(inner)
        def counted(*args: Any, **kwargs: Any) -> Any:
            counts["calls"] += 1
            self._time_database(kwargs.get("schemafuzz_db", kwargs.get("connection")))
            began = time.perf_counter()
            self._inside, self._counts = True, counts
            try:
                return inner(*args, **kwargs)
            except _NOT_A_FAILURE:
                raise
            except BaseException:
                counts["failed"] += 1
                if self.first_failure is None:
                    self._failed(nodeid, "example")
                raise
            finally:
                self._inside = False
                counts["seconds"] += time.perf_counter() - began
                self._keep_statements(nodeid, kwargs.get("schemafuzz_db"))

        return counted

    def _time_database(self, sandbox: Any) -> None:
        """Add the time the sandbox's connection (or the peer's ``connection`` fixture, a
        SQLAlchemy Connection) spends in the driver during examples to the running test's
        counts["db_seconds"] (listeners attached once per connection, which several tests may
        share). Statements outside an example (the plugin's
        per-example savepoint, if it wraps this counter) are left out, so that the driver's
        time is a part of the examples' time."""
        from sqlalchemy import Connection

        connection = sandbox if isinstance(sandbox, Connection) else getattr(
            sandbox, "connection", None)
        if connection is None or id(connection) in self._timed:
            return
        self._timed[id(connection)] = connection
        from sqlalchemy import event

        began: list[float] = []

        def before(*_: Any) -> None:
            if self._inside:
                began.append(time.perf_counter())

        def after(*_: Any) -> None:
            if began and self._counts is not None:  # the test whose example is running
                self._counts["db_seconds"] = self._counts.get("db_seconds", 0.0) + (
                    time.perf_counter() - began.pop())

        event.listen(connection, "before_cursor_execute", before)
        event.listen(connection, "after_cursor_execute", after)
        event.listen(connection.engine, "handle_error",
                     lambda context: after() if context.connection is connection else None)

    def _keep_statements(self, nodeid: str, sandbox: Any) -> None:
        recorder = getattr(sandbox, "recorder", None)
        if self.statements is not None and recorder is not None:
            self.statements.write(json.dumps({"test": nodeid,
                                              "statements": list(recorder.current)}) + "\n")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> None:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        inner = getattr(handle, "inner_test", None)
        if handle is not None and inner is not None:
            handle.inner_test = self._counting(item.nodeid, inner)
            self._wrapped = (handle, inner)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        # The parametrizations of a test share one function: a counter left in place would
        # count every later parametrization's examples again, under each earlier nodeid.
        if self._wrapped is not None:
            handle, inner = self._wrapped
            handle.inner_test = inner
            self._wrapped = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" and report.nodeid in self.tests:
            self.tests[report.nodeid]["call_seconds"] = report.duration
        if report.failed and self.first_failure is None:
            self._failed(report.nodeid, f"{report.when} failed")

    def close(self) -> None:
        """Write what was observed and close the statements file."""
        self.write()
        if self.statements is not None:
            self.statements.close()
            self.statements = None

    def write(self) -> None:
        """Write what was observed so far."""
        self.path.write_text(json.dumps({"first_failure": self.first_failure,
                                         "tests": self.tests}))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--bench-observe", default=None, metavar="PATH",
                     help="benchmarks: write example counts and the first failure here (JSON)")
    parser.addoption("--bench-statements", default=None, metavar="PATH",
                     help="benchmarks: write each example's SQL here (JSON lines)")
    parser.addoption("--bench-no-shrink", action="store_true",
                     help="benchmarks: the loaded profile without Hypothesis' shrink phase")


@pytest.hookimpl(trylast=True)  # after schemafuzz.plugin has loaded the profile
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("bench_no_shrink"):
        from hypothesis import Phase, settings

        from schemafuzz.harness.profiles import profile_name, run_profile

        # The plugin loads the run's profile around every property (not once at start-up),
        # so that profile itself is registered again without its shrink phase: a profile of
        # our own, loaded here, would be replaced before the first example.
        name = profile_name(run_profile())
        current = settings.get_profile(name)
        settings.register_profile(name, current,
                                  phases=[p for p in current.phases if p != Phase.shrink])
    path = config.getoption("bench_observe")
    statements = config.getoption("bench_statements")
    if path:
        observer = Observer(Path(path), Path(statements) if statements else None)
        config.pluginmanager.register(observer, "bench-observer")


def pytest_unconfigure(config: pytest.Config) -> None:
    observer = config.pluginmanager.get_plugin("bench-observer")
    if isinstance(observer, Observer):
        observer.close()


def read_observations(path: Path) -> dict[str, Any]:
    """The JSON an observed run wrote, or an empty record when it wrote nothing."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"first_failure": None, "tests": {}}
    return data
