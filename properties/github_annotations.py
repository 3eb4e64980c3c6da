"""Findings where reviewers look: on GitHub Actions (``GITHUB_ACTIONS=true``) each failing
finding is also printed as a workflow command, ``::error file=...,line=...::FINDING ...``,
pointing at the line of the model's field, so the pull request shows it beside the code; advice
is printed as a ``::notice``.

The finding is read from the failed test's report, whose message begins with the finding as
``Finding.__str__`` writes it (``FINDING table.column [rule; ...]: ...``), so every property,
machine and root cause is annotated without each passing its findings here. The annotations are
printed in the terminal summary, each on a line of its own, as GitHub requires.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from .report import Ledger
from .subject import UnderTest, under_test_of

__all__ = ["MERGED_LEDGER_KEY", "annotation", "field_location", "register"]

# The ledger the run's reports were written from (set by schemafuzz.reporting).
MERGED_LEDGER_KEY = pytest.StashKey[Ledger]()

_FINDING = re.compile(r"\b(FINDING|UNGUARDED) ([^\s\[.]+)\.([^\s\[]*) \[[^\n]*")


def _model_of(under_test: UnderTest, table: str) -> type[Any] | None:
    return next((model for model in under_test.table_models
                 if model.__table__.name == table), None)


def field_location(under_test: UnderTest, table: str, column: str) -> tuple[Path, int] | None:
    """The source file and line of the model field mapped to ``table.column`` (the first
    column of ``a,b``), found in the class that declares it (a non-table base model's field
    included); the table model's own line when no class body declares it; None when no model
    of the run maps ``table`` or its source cannot be read."""
    model = _model_of(under_test, table)
    if model is None:
        return None
    first = column.split(",")[0]
    key = first
    if first in model.__table__.c:
        with contextlib.suppress(sa.orm.exc.UnmappedColumnError):
            key = sa.inspect(model).get_property_by_column(model.__table__.c[first]).key
    declaration = re.compile(rf"^\s+{re.escape(key)}\s*[:=]")
    declaring = [cls for cls in model.__mro__ if key in vars(cls).get("__annotations__", {})]
    for cls in [*declaring, model]:
        try:
            source, start = inspect.getsourcelines(cls)
            path = Path(inspect.getsourcefile(cls) or "")
        except (OSError, TypeError):
            continue
        offset = next((n for n, line in enumerate(source) if declaration.match(line)), None)
        if offset is not None or cls is model:
            return path, start + (offset or 0)
    return None


def _shown(path: Path, config: pytest.Config) -> str:
    """``path`` as GitHub wants it: relative to the workspace (or the rootdir) when inside."""
    for base in (os.environ.get("GITHUB_WORKSPACE"), str(config.rootpath)):
        if base and path.resolve().is_relative_to(Path(base).resolve()):
            return str(path.resolve().relative_to(Path(base).resolve()))
    return str(path)


def _escaped(text: str, *, in_property: bool = False) -> str:
    # GitHub's workflow command escaping: data loses %, CR and LF; properties also : and ,.
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if in_property else text


def annotation(level: str, config: pytest.Config, table: str, column: str, label: str,
               message: str) -> str:
    """One workflow command: ``::error file=F,line=N,title=T::message`` (without a file for a
    table no model maps)."""
    where = field_location(under_test_of(config), table, column)
    props = [f"file={_escaped(_shown(where[0], config), in_property=True)}",
             f"line={where[1]}"] if where else []
    props.append("title=" + _escaped(f"schemafuzz {label} {table}.{column}", in_property=True))
    return f"::{level} {','.join(props)}::{_escaped(message)}"


class _Annotations:
    """Collects the annotations of a run and prints them in its terminal summary."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.lines: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        found = _FINDING.search(str(report.longrepr))
        if found is None:
            return
        label, table, column = found.groups()
        line = annotation("error", self.config, table, column, label, found.group(0))
        if line not in self.lines:
            self.lines.append(line)

    @pytest.hookimpl(trylast=True)  # after schemafuzz.reporting's summary
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        ledger = self.config.stash.get(MERGED_LEDGER_KEY, None)
        notices = [] if ledger is None else [
            annotation("notice", self.config, e.table, e.column, "ADVICE",
                       f"ADVICE {e.table}.{e.column} [{e.rule}]: {text}")
            for e in ledger.sorted_entries() for text in e.advice]
        for line in [*self.lines, *notices]:
            terminalreporter.write_line(line)


def register(config: pytest.Config) -> None:
    """Annotate this run's findings when it runs on GitHub Actions (only in the process that
    prints the summary: an xdist worker's reports reach the controller)."""
    if os.environ.get("GITHUB_ACTIONS") == "true" and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Annotations(config), "schemafuzz.github_annotations")
