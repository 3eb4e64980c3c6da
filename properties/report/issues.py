"""``ISSUES.md``: the deviations of the app under test from what it declares, one line each:
every finding that fails (drift, and unguarded rules the project did not accept) and every
success criterion that failed. Empty of items, and saying so, when there are none."""

from __future__ import annotations

from pathlib import Path

from .ledger import Ledger
from .render import scope_header
from .validation import verdicts

__all__ = ["issue_lines", "write_issues"]


def issue_lines(ledger: Ledger) -> list[str]:
    """One Markdown item per deviation: findings by table and column, then failed criteria."""
    items = [f"- **{e.table}.{e.column}** `{e.rule}` ({label}): {' '.join(text.split())}"
             for e in ledger.sorted_entries()
             for kind, label in (("drift", "drift"), ("unguarded", "unguarded"))
             for text in e.notes(kind)]
    for verdict in verdicts(ledger):
        if verdict.verdict == "FAIL":
            failed = next(m for m in verdict.measurements if not m.passed)
            items.append(f"- **{verdict.criterion.id}** {verdict.criterion.title}: "
                         f"{' '.join(failed.figure.split())}")
    return items


def write_issues(ledger: Ledger, folder: Path) -> Path:
    """Write ``ISSUES.md`` into ``folder`` and return its path; raises OSError when the folder
    cannot be written."""
    items = issue_lines(ledger)
    body = items or ["None: every finding of this run held and no success criterion failed."]
    path = folder / "ISSUES.md"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(["# Deviations from the spec", "", *scope_header(ledger),
                               *body]) + "\n")
    return path
