"""From a finding to the test's verdict, by kind, and one failure per root cause.

- *drift* fails the test;
- *unguarded* fails it unless the project accepts the rule (``accept_unguarded`` in
  ``[tool.schemafuzz]``, entries ``"table.column:rule"``), and the report lists what it accepted;
- *advice* never fails: it is recorded, and listed in the terminal summary and the reports.

A *root cause* is a finding that other tests would meet again (a table whose valid rows cannot
be stored, an exception of the app's own code): the first test to meet it fails with it, at
once and without shrinking, and every test that depends on the same table is skipped as
"blocked by FINDING ...". Hypothesis shrinks every exception a test raises except pytest's
skip; the root cause travels as a skip and :func:`pytest_runtest_makereport` turns it back
into the failure it is, so a schema with one bug costs about what a clean one does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from .findings import ADVICE, DRIFT, UNGUARDED, Finding, FindingError
from .report import Ledger

__all__ = ["RootCauses", "cannot_generate", "conclude", "finding_cause", "rule_keys"]


def rule_keys(kind: str, rule: str, params: Mapping[str, Any] | None = None) -> set[str]:
    """The names ``accept_unguarded`` may use for a rule: its kind (``min_length``,
    ``not_null``, ``range``...), each keyword of a ``Field(...)`` rule (``ge``, ``le``,
    ``max_digits``...) and the rule as the report prints it."""
    keys = {kind.lower().replace(" ", "_"), rule}
    keys.update(str(name) for name in (params or {}))
    if rule.startswith("Field(") and "=" in rule:
        keys.add(rule[len("Field("):].split("=", 1)[0])
    return keys


def finding_cause(finding: Finding) -> str:
    """The root-cause key of a failing finding: its table, column and rule. Another test
    meeting the same key (the stateful machine after the foreign-key property) is blocked."""
    return f"finding: {finding.table}.{finding.column}: {finding.rule}"


def _accepted(finding: Finding, accepted: frozenset[str], keys: Iterable[str]) -> bool:
    where = f"{finding.table}.{finding.column}"
    return any(f"{where}:{key}" in accepted for key in keys) or where in accepted


def conclude(ledger: Ledger, finding: Finding, *, accepted: frozenset[str] = frozenset(),
             keys: Iterable[str] = ()) -> None:
    """Record ``finding`` in the ledger under its kind and give the test its verdict: fail
    (pytest.fail) for drift and for an unguarded rule the project did not accept; return for
    advice and accepted rules."""
    ledger.declare(finding.table, finding.column, finding.rule, "finding", finding.layers)
    where = (finding.table, finding.column, finding.rule)
    if finding.kind == ADVICE:
        # Recorded, not warned: a project running with -W error would turn it into a failure.
        ledger.finding(*where, finding.note, ADVICE)
        return
    if finding.kind == UNGUARDED and _accepted(finding, accepted, keys):
        ledger.finding(*where, finding.note, "accepted")
        return
    ledger.finding(*where, finding.note, finding.kind if finding.kind == UNGUARDED else DRIFT)
    pytest.fail(str(finding), pytrace=False)


class _RootCauseFound(pytest.skip.Exception):  # type: ignore[name-defined]
    """A root-cause finding on its way out of Hypothesis (which does not shrink a skip)."""


@dataclass
class _Cause:
    finding: str
    reported_by: str


@dataclass
class RootCauses:
    """The run's root causes, by key, and the tables each one blocks."""

    causes: dict[str, _Cause] = field(default_factory=dict)
    blocked_tables: dict[str, str] = field(default_factory=dict)  # table -> cause key

    def check(self, tables: Iterable[str]) -> None:
        """Skip the running test when a root cause blocks one of ``tables``."""
        for table in tables:
            key = self.blocked_tables.get(table)
            if key is not None:
                cause = self.causes[key]
                pytest.skip(f"blocked by {cause.finding[:300]} (reported by "
                            f"{cause.reported_by})")

    def remember(self, key: str, finding: Finding, nodeid: str) -> None:
        """Note a failure already reported (with shrinking) as the cause ``key``, so that
        tests checking that key are skipped as blocked by it (the last example reported is
        the one Hypothesis shrank to)."""
        self.causes[key] = _Cause(str(finding), nodeid)

    def check_cause(self, key: str, nodeid: str | None = None) -> None:
        """Skip the running test when the root cause ``key`` was reported, by another test
        than ``nodeid`` (the test's own later examples, while Hypothesis shrinks its failure,
        are not blocked by it)."""
        cause = self.causes.get(key)
        if cause is not None and cause.reported_by != nodeid:
            pytest.skip(f"blocked by {cause.finding[:300]} (reported by {cause.reported_by})")

    def found(self, ledger: Ledger, key: str, finding: Finding, nodeid: str,
              blocks: Iterable[str] = ()) -> NoReturn:
        """Report the root cause ``key``: the first test fails with ``finding`` (recorded in
        the ledger), later ones are skipped as blocked by it; ``blocks`` are the tables whose
        tests it blocks from now on."""
        for table in blocks:
            self.blocked_tables.setdefault(table, key)
        known = self.causes.get(key)
        if known is not None:
            pytest.skip(f"blocked by {known.finding[:300]} (reported by {known.reported_by})")
        self.causes[key] = _Cause(str(finding), nodeid)
        ledger.declare(finding.table, finding.column, finding.rule, "finding", finding.layers)
        ledger.finding(finding.table, finding.column, finding.rule, finding.note,
                       UNGUARDED if finding.kind == UNGUARDED else DRIFT)
        raise _RootCauseFound(str(finding))


def cannot_generate(obstacles: dict[str, str], error: BaseException) -> str:
    """The line that replaces Hypothesis' ``Unsatisfiable`` (or a health check about
    filtering): what could not be generated and why, with what to do."""
    if not obstacles:
        return (f"cannot generate: {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    where, why = next(iter(obstacles.items()))
    fix = "" if "shadowed" in why else (
        "; register a strategy for it with schemafuzz.strategies.register_field_strategy")
    return f"cannot generate for {where}: {why}{fix}"


def _generation_failure(error: BaseException) -> bool:
    from hypothesis.errors import FailedHealthCheck, Unsatisfiable

    return isinstance(error, Unsatisfiable) or (
        isinstance(error, FailedHealthCheck) and "filter" in str(error))


def pytest_runtest_setup(item: pytest.Item) -> None:
    from .strategies import generation_obstacles

    generation_obstacles()  # forget what earlier tests met


def _findings_in(error: BaseException) -> list[str]:
    """The finding messages (``pytest.fail`` without a traceback) an exception group holds."""
    if isinstance(error, BaseExceptionGroup):
        return [text for inner in error.exceptions for text in _findings_in(inner)]
    if isinstance(error, pytest.fail.Exception) and not error.pytrace:
        return [str(error.msg)]
    # An exception group holds only Exceptions: Hypothesis wraps pytest's Failed (a
    # BaseException) in one whose __cause__ is the original.
    cause = error.__cause__
    if cause is not None and not isinstance(error, pytest.fail.Exception):
        return _findings_in(cause)
    return []


def _grouped_findings(error: BaseException) -> str | None:
    """The report of findings Hypothesis raised together: several distinct failures (an
    exception group), or a finding it could not replay (``FlakyFailure``: the example failed
    once, then passed or failed otherwise), which says so. None for any other error, and for a
    group holding no finding. Without this the report is Hypothesis' repr of every argument
    and fixture of the test."""
    from hypothesis.errors import FlakyFailure

    if not isinstance(error, BaseExceptionGroup):
        return None
    findings = _findings_in(error)
    if not findings:
        return None
    text = "\n".join(dict.fromkeys(findings))
    if isinstance(error, FlakyFailure):
        text += ("\n(Hypothesis could not replay the failing example: it failed once, then did "
                 "not fail the same way; the finding above is what was seen)")
    return text


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Any:
    report = yield
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, _RootCauseFound):
        report.outcome = "failed"
        report.longrepr = str(error.msg)
    elif error is not None and call.when == "call" and _generation_failure(error):
        from .strategies import generation_obstacles

        report.outcome = "skipped"
        report.longrepr = (*_test_line(item),
                           f"Skipped: {cannot_generate(generation_obstacles(), error)}")
    elif (report.skipped and isinstance(report.longrepr, tuple)
          and _raised_in_package(report.longrepr[0], item)):
        # A skip our machinery raised ("blocked by FINDING ...", "no value breaks it alone")
        # is located at the test it skipped, not at the helper's line, as pytest does for
        # skip marks.
        report.longrepr = (*_test_line(item), report.longrepr[2])
    elif error is not None and (grouped := _grouped_findings(error)) is not None:
        report.longrepr = grouped
    elif (isinstance(error, FindingError) and report.failed
          and not item.config.getoption("fulltrace", False)):
        report.longrepr = f"{error}\n({_raised_at(item, call)})"
    return report


def _test_line(item: pytest.Item) -> tuple[str, int]:
    """The test's file and its 1-based line, where pytest reports a skip mark."""
    path, line = item.reportinfo()[:2]
    return str(path), (line or 0) + 1


def _raised_in_package(path: str, item: pytest.Item) -> bool:
    """True when a skip raised at ``path`` came from a module of this package other than the
    test's own file."""
    from .collection import inside_package

    return Path(path).resolve() != Path(item.path).resolve() and inside_package(Path(path))


def _raised_at(item: pytest.Item, call: pytest.CallInfo[None]) -> str:
    """``path:line`` of the test function's line that raised, for a report without a
    traceback (the test's own line when the exception passed through no frame of it)."""
    assert call.excinfo is not None
    test_file = str(item.path)
    for entry in reversed(call.excinfo.traceback):
        if str(entry.path) == test_file:
            return f"{entry.path}:{entry.lineno + 1}"
    return ":".join(map(str, _test_line(item)))
