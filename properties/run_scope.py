"""How much of the suite a run ran, so that a report written by a narrowed or interrupted run
(``-k``, ``--lf``, one file, a shard, ``-x``, Ctrl-C) says it is partial and never replaces
the last complete run's reports silently.

Each process counts the built-in properties it collected before any deselection and those
that started (a setup report, a skip included), and names the property modules it collected
nothing from; the counts travel in the ledger (xdist workers, shards) and add up there. A run
that collected no built-in property (a project's own tests on the fixtures) is not judged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .collection import PACKAGE_DIR, inside_package
from .fixtures import run_ledger
from .report.scope import RunScope

__all__ = ["property_modules", "register"]


def property_modules() -> list[str]:
    """The file names of the built-in property modules (``test_constraints.py``, ...)."""
    return sorted(path.name for path in PACKAGE_DIR.glob("test_*.py"))


class _Counter:
    """Counts, in one process, the properties collected and started (see the module
    docstring) and keeps them in the process's ledger at the end of its session."""

    def __init__(self) -> None:
        self.collected: set[str] = set()
        self.modules: set[str] = set()
        self.started: set[str] = set()

    @pytest.hookimpl(tryfirst=True)  # before -k, -m, --lf and pytest-split deselect
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if inside_package(Path(item.path)):
                self.collected.add(item.nodeid)
                self.modules.add(Path(item.path).name)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "setup" and report.nodeid in self.collected:
            self.started.add(report.nodeid)

    @pytest.hookimpl(tryfirst=True)  # before reporting.py merges and writes the reports
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.collected:
            return
        scope = RunScope(len(self.collected), len(self.started),
                         [name for name in property_modules() if name not in self.modules])
        ledger = run_ledger(session.config)
        ledger.scope = scope if ledger.scope is None else ledger.scope.add(scope)


def register(config: pytest.Config) -> None:
    """Count this process's properties in ``config``'s run (an xdist controller collects
    nothing: its workers count theirs and hand them over in their ledgers)."""
    config.pluginmanager.register(_Counter(), "schemafuzz.run_scope")
