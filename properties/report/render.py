"""Rendering the coverage ledger as Markdown, JSON and terminal lines."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .ledger import Ledger

__all__ = ["SECTIONS", "scope_header", "summary_lines", "write_reports"]

_LABELS = (("drift", "finding"), ("unguarded", "unguarded"), ("accepted", "accepted"),
           ("advice", "advice"), ("coerced", "coerced"), ("unsupported", "not generated"))


def _markdown(ledger: Ledger) -> str:
    lines = [
        "# Constraint coverage",
        "",
        *scope_header(ledger),
        "| table | column | rule | kind | enforced by | valid | violations | outcome |",
        "|---|---|---|---|---|---:|---:|---|",
    ]
    for e in ledger.sorted_entries():
        lines.append(f"| {e.table} | {e.column} | `{e.rule}` | {e.kind} | "
                     f"{', '.join(e.layers)} | {e.valid} | {e.violations} | {e.outcome} |")
    for kind, title in SECTIONS:
        noted = [(e, text) for e in ledger.sorted_entries() for text in e.notes(kind)]
        if noted:
            lines += ["", f"## {title}", ""]
            lines += [f"- **{e.table}.{e.column}** `{e.rule}`: {text}" for e, text in noted]
    return "\n".join(lines) + "\n"


# Each kind of note and its section in the report, failing kinds first.
SECTIONS = (("drift", "Findings: drift (the layers disagree)"),
            ("unguarded", "Findings: unguarded (only the model enforces the rule)"),
            ("accepted", "Unguarded rules the project accepts (accept_unguarded)"),
            ("advice", "Advice (same end state, a better way)"),
            ("coerced", "Enforced by coercion (PostgreSQL changes the value instead of "
                        "refusing it)"),
            ("unsupported", "Not generated (types without a strategy)"))


def scope_header(ledger: Ledger) -> list[str]:
    """The lines heading a report of a partial run (and a blank line), or none."""
    if ledger.scope is None or not ledger.scope.partial:
        return []
    return [f"**{ledger.scope.describe()}.** These are not the whole suite's outcomes; the last "
            "complete run's reports, when there is one, are in the folder above.", ""]


def write_reports(ledger: Ledger, folder: Path) -> tuple[Path, Path]:
    """Write ``coverage.md`` and ``coverage.json`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "coverage.md", folder / "coverage.json"
    md.write_text(_markdown(ledger))
    rows = [{**asdict(e), "outcome": e.outcome} for e in ledger.sorted_entries()]
    js.write_text(json.dumps(rows, indent=1))
    return md, js


def summary_lines(ledger: Ledger) -> list[str]:
    """Short lines for the terminal summary: totals, then every finding and every constraint
    that was not exercised both ways."""
    entries = ledger.sorted_entries()
    held = sum(e.outcome == "held" for e in entries)
    lines = [f"constraints: {len(entries)}, held with valid and violating data: {held}, "
             f"findings: {sum(bool(e.findings) for e in entries)} drift, "
             f"{sum(bool(e.unguarded) for e in entries)} unguarded, "
             f"{sum(bool(e.advice) for e in entries)} advice"
             + (f"; {sum(bool(e.accepted) for e in entries)} unguarded accepted"
                if any(e.accepted for e in entries) else "")]
    width = max((len(f"{e.table}.{e.column}") for e in entries), default=0)
    for e in entries:
        if e.outcome != "held":
            lines.append(f"  {e.table + '.' + e.column:<{width}}  {e.rule:<40} {e.outcome:<15} "
                         f"valid={e.valid} violations={e.violations}")
            lines += [f"      {label}: {text}" for kind, label in _LABELS
                      for text in e.notes(kind)]
    return lines
