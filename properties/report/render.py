"""Rendering the coverage ledger as Markdown, JSON and terminal lines."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from .ledger import Entry, Ledger

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


_RULE_WIDTH = 34  # a longer rule (a constraint's name) is shown as [n], named in the legend


def _counts(entry: Entry) -> tuple[str, str]:
    """The two count cells of ``entry``'s row: valid and violating examples, or, for an
    ON DELETE rule, the deletes the cascade property made (through the ORM and through SQL)."""
    if entry.kind == "on_delete":
        return f"{entry.valid} deletes", "-"
    return str(entry.valid), str(entry.violations)


def summary_lines(ledger: Ledger) -> list[str]:
    """Lines for the terminal summary: totals; then every constraint in aligned columns
    (column, rule, layers, valid and violating examples, outcome), rules too long for their
    column named in a legend below; then the text of every finding, advice and note."""
    entries = ledger.sorted_entries()
    held = sum(e.outcome == "held" for e in entries)
    lines = [f"constraints: {len(entries)}, held with valid and violating data: {held}, "
             f"findings: {sum(bool(e.findings) for e in entries)} drift, "
             f"{sum(bool(e.unguarded) for e in entries)} unguarded, "
             f"{sum(bool(e.advice) for e in entries)} advice"
             + (f"; {sum(bool(e.accepted) for e in entries)} unguarded accepted"
                if any(e.accepted for e in entries) else "")]
    if not entries:
        return lines
    legend: list[str] = []

    def rule_cell(rule: str) -> str:
        if len(rule) <= _RULE_WIDTH:
            return rule
        # A constraint's name goes to the legend; what follows it (ON DELETE CASCADE) stays.
        name, _, rest = rule.partition(" ")
        if name not in legend:
            legend.append(name)
        cell = f"[{legend.index(name) + 1}]"
        return f"{cell} {rest}" if rest and len(cell) + 1 + len(rest) <= _RULE_WIDTH else cell

    header = ("column", "rule", "enforced by", "valid", "violating", "outcome")
    rows = [(f"{e.table}.{e.column}", rule_cell(e.rule), ",".join(e.layers), *_counts(e),
             e.outcome) for e in entries]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(5)]

    def line(row: tuple[str, ...]) -> str:
        name, rule, layers, valid, violating, outcome = row
        return (f"  {name:<{widths[0]}}  {rule:<{widths[1]}}  {layers:<{widths[2]}}  "
                f"{valid:>{widths[3]}}  {violating:>{widths[4]}}  {outcome}")

    lines += [line(header), *map(line, rows)]
    lines += [f"  [{n}] {rule}" for n, rule in enumerate(legend, start=1)]
    lines.append("  held: its valid rows were stored and its violations refused (ON DELETE: "
                 "parents deleted through the ORM and SQL); valid only: no violating example "
                 "(a default, or no value breaks it alone); not exercised: no property of this "
                 "run reached it")
    for e in entries:
        notes = [f"      {label}: {text}" for kind, label in _LABELS for text in e.notes(kind)]
        if notes:
            lines += [f"  {e.table}.{e.column} {e.rule}:", *notes]
    return lines
