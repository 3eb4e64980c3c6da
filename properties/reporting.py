"""At the end of a run: merge the coverage ledgers (one per xdist worker), write the coverage
and validation reports under ``.schemafuzz/`` of the rootdir (``.schemafuzz/partial/`` for a
run that left some properties out: see :mod:`schemafuzz.run_scope`), and print their summary.

A run that ended on a usage error never gets here (its configuration was refused in
``pytest_configure``), so it writes no report.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from .fixtures import DESCRIPTION_KEY, LEDGER_KEY, PROVISIONED_KEY, worker_share
from .github_annotations import MERGED_LEDGER_KEY
from .harness import guard
from .replay import remove_scripts_of_other_runs
from .report import Ledger, summary_lines, write_reports
from .report.issues import issue_lines, write_issues
from .report.validation import validation_summary_lines, write_validation_report
from .shards import LEDGER_FILE, PARTIAL_FOLDER
from .subject import under_test_of
from .verdicts import rule_keys
from .xdist_control import RUN_ID_KEY

__all__: list[str] = []

_REPORT_KEY = pytest.StashKey[list[str]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    # The ledger keeps one note per rule and test (Ledger.finding): it must know which test
    # is noting. Fixtures made it, if the test uses it, before the call.
    ledger = item.config.stash.get(LEDGER_KEY, None)
    if ledger is None:
        return (yield)
    ledger.recording_test = item.nodeid
    try:
        return (yield)
    finally:
        ledger.recording_test = None


def _parts_folder(config: pytest.Config) -> Path:
    return config.rootpath / ".schemafuzz" / "parts"


def _unused_acceptances(config: pytest.Config, ledger: Ledger) -> list[str]:
    """Lines naming the accept_unguarded entries that name no column of the models (a typo),
    and those that accepted nothing although this run broke their column's rules (a typo in
    the rule, or a rule the database now enforces, which the project can stop accepting); no
    lines when every entry was used or not tried."""
    under_test = under_test_of(config)
    columns = {f"{table.name}.{column.name}" for table in under_test.metadata.tables.values()
               for column in table.columns}
    # An entry is used when it names a column and one of the keys of a rule accepted there.
    used = {f"{e.table}.{e.column}{suffix}" for e in ledger.entries.values() if e.accepted
            for suffix in ("", *(f":{key}" for key in rule_keys(e.kind, e.rule)))}
    # Only columns this run broke with violating rows could have used an entry: a run of the
    # migration properties alone, or -k on one table, says nothing about the others.
    tried = {f"{e.table}.{e.column}" for e in ledger.entries.values() if e.violations}
    entries = sorted(under_test.configuration.accept_unguarded)
    unknown = [entry for entry in entries if entry.split(":", 1)[0] not in columns]
    unused = [entry for entry in entries
              if entry.split(":", 1)[0] in tried and entry not in used]
    lines = []
    if unknown:
        lines.append(f"accept_unguarded: {', '.join(unknown)} names no column of the models "
                     "(write table.column:rule)")
    if unused:
        lines.append(f"accept_unguarded: {', '.join(unused)} accepted nothing in this run (a "
                     "typo in the rule, or a rule the database enforces now)")
    return lines


def _nothing_recorded(config: pytest.Config, merged: Ledger) -> None:
    """End a run whose properties recorded nothing: no report is written (the last ones stay);
    the summary says so when properties ran at all, and is silent for a run without any."""
    scope = merged.scope
    if scope is None or not scope.partial:
        remove_scripts_of_other_runs(config)
    if scope is None or not scope.collected:
        return
    kept = " (the reports of earlier runs are kept)" if scope.partial else ""
    config.stash[_REPORT_KEY] = [f"{scope.describe()}; no report written: no property of this "
                                 f"run recorded a constraint or a criterion{kept}"]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    ledger = config.stash.get(LEDGER_KEY, None)
    shared = worker_share(config)
    if shared is not None:  # an xdist worker hands its part to the controller
        if ledger is not None:
            worker = getattr(config, "workerinput", {}).get("workerid", "worker")
            ledger.dump(_parts_folder(config) / f"{shared['run_id']}-{worker}.json")
        return
    run_id = config.stash.get(RUN_ID_KEY, None)
    parts = sorted(_parts_folder(config).glob(f"{run_id}-*.json")) if run_id else []
    merged = Ledger()
    if ledger is not None:
        merged.merge(ledger)
    for part in parts:
        merged.merge(Ledger.load(part))
        part.unlink()
    if not (merged.entries or merged.measurements):
        _nothing_recorded(config, merged)
        return
    if under_test_of(config).alembic_ini is None:
        for criterion in ("SC-005", "SC-010"):
            merged.not_applicable(criterion, "no Alembic project configured")
    config.stash[MERGED_LEDGER_KEY] = merged
    folder = config.rootpath / ".schemafuzz"
    scope_lines = []
    if merged.scope is not None and merged.scope.partial:
        # Beside the last complete run's reports, never over them.
        folder = folder / PARTIAL_FOLDER
        scope_lines = [f"{merged.scope.describe()}: reports in {folder} (the last complete "
                       f"run's reports in {folder.parent} are kept)"]
    else:
        remove_scripts_of_other_runs(config)
        shutil.rmtree(folder / PARTIAL_FOLDER, ignore_errors=True)  # older than this run
    md, js = write_reports(merged, folder)
    merged.dump(folder / LEDGER_FILE)  # for `schemafuzz merge`
    lines = [*scope_lines, *summary_lines(merged), *_unused_acceptances(config, merged),
             f"report: {md} and {js.name}"]
    try:
        vmd, vjs = write_validation_report(merged, under_test_of(config).metadata, folder)
        issues = write_issues(merged, folder)
        lines += [*validation_summary_lines(merged), f"validation: {vmd} and {vjs.name}",
                  f"deviations: {len(issue_lines(merged))} in {issues}"]
    except Exception as error:  # the session must end cleanly whatever the report does
        lines.append(f"validation report not written: {error}")
    config.stash[_REPORT_KEY] = lines


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    provisioned = config.stash.get(PROVISIONED_KEY, None)
    description, stale = (
        (provisioned.description, provisioned.stale_dropped) if provisioned is not None
        else config.stash.get(DESCRIPTION_KEY, (None, []))
    )
    report_lines = config.stash.get(_REPORT_KEY, [])
    if description is None and not report_lines:
        return
    terminalreporter.write_sep("-", "schemafuzz")
    if description is not None:
        terminalreporter.write_line(f"server: {description}")
    if stale:
        terminalreporter.write_line(f"dropped stale databases of crashed runs: {', '.join(stale)}")
    for line in guard.refusals():
        terminalreporter.write_line(f"connection guard refused: {line}")
    for line in report_lines:
        terminalreporter.write_line(line)
