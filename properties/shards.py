"""Merge the reports of several runs of the properties into the reports one run of them all
writes: shards of one nightly run, each on its own machine (``pytest properties --splits N
--group I``, pytest-split), then ``schemafuzz merge shard-1 shard-2 ...`` in a last job.

Every run leaves the data of its reports in ``.schemafuzz/ledger.json`` (constraint counts,
findings, criteria measured). Merging adds the counts and findings and keeps every
measurement, as the controller of an xdist run merges its workers' parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from .harness.errors import HarnessError
from .report import Ledger, summary_lines, write_reports
from .report.issues import issue_lines, write_issues
from .report.validation import validation_summary_lines, verdicts, write_validation_report

__all__ = ["LEDGER_FILE", "PARTIAL_FOLDER", "Merged", "ledger_of", "merge_runs"]

LEDGER_FILE = "ledger.json"
PARTIAL_FOLDER = "partial"  # under .schemafuzz/: the reports of a run that left some out


def ledger_of(folder: Path) -> Path:
    """The ledger a run left in ``folder`` (its ``.schemafuzz`` folder, or the folder the run
    started in); a shard's, which left part of the suite out, is in ``partial/`` there. The
    newest when there are several. Raises HarnessError naming the folder when it holds none."""
    candidates = [base / sub / LEDGER_FILE for base in (folder, folder / ".schemafuzz")
                  for sub in (".", PARTIAL_FOLDER)]
    found = [path for path in candidates if path.is_file()]
    if found:
        return max(found, key=lambda path: path.stat().st_mtime)
    raise HarnessError(f"{folder}: no {LEDGER_FILE} here or in {folder / '.schemafuzz'} (give "
                       "the .schemafuzz folder a `pytest properties` run wrote, e.g. a shard's "
                       "uploaded artifact)")


@dataclass(frozen=True)
class Merged:
    """What a merge wrote: the summary lines, and whether the runs together hold (no drift,
    no unguarded rule the project did not accept, no criterion failed)."""

    lines: list[str]
    holds: bool


def merge_runs(folders: Sequence[Path], out: Path, metadata: sa.MetaData | None) -> Merged:
    """Merge the ledgers of the runs in ``folders`` and write the coverage and validation
    reports, and the merged ledger, into ``out`` (``metadata`` draws the diagram; None: no
    diagram). Returns the summary lines the terminal shows after a run and the verdict.
    Raises HarnessError for a folder without a ledger or with one that cannot be read."""
    merged = Ledger()
    for folder in folders:
        path = ledger_of(folder)
        try:
            merged.merge(Ledger.load(path))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise HarnessError(f"{path}: cannot be read as a schemafuzz ledger: {error}") from None
    md, js = write_reports(merged, out)
    vmd, vjs = write_validation_report(merged, metadata, out)
    issues = write_issues(merged, out)
    merged.dump(out / LEDGER_FILE)
    holds = (not any(e.findings or e.unguarded for e in merged.entries.values())
             and not any(v.verdict == "FAIL" for v in verdicts(merged)))
    scope = [] if merged.scope is None else [merged.scope.describe()]
    return Merged([f"merged {len(folders)} runs: {', '.join(str(f) for f in folders)}", *scope,
                   *summary_lines(merged), f"report: {md} and {js.name}",
                   *validation_summary_lines(merged), f"validation: {vmd} and {vjs.name}",
                   f"deviations: {len(issue_lines(merged))} in {issues}"],
                  holds)
