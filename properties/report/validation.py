"""The validation report: SC-001..SC-010 with their verdicts and the figures measured in this run,
the constraint-coverage table and an entity-relationship diagram of the models, written to
``VALIDATION_REPORT.md`` and ``VALIDATION_REPORT.json`` (and ``erd.png`` with Graphviz).

A criterion's verdict comes only from measurements of the run: ``pass`` when every measurement
of it passed, ``FAIL`` when any failed, ``not measured`` when no property measured it (never
shown as a pass).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from .criteria import CRITERIA, Criterion
from .erd import Diagram, draw_erd
from .ledger import Ledger, Measurement
from .render import SECTIONS

__all__ = [
    "NOT_APPLICABLE",
    "NOT_MEASURED",
    "Verdict",
    "validation_summary_lines",
    "verdicts",
    "write_validation_report",
]

NOT_MEASURED = "not measured"
NOT_APPLICABLE = "not applicable"
_VERDICTS = ("pass", "FAIL", NOT_MEASURED, NOT_APPLICABLE)


@dataclass(frozen=True)
class Verdict:
    """One criterion's outcome in this run, with the measurements behind it."""

    criterion: Criterion
    verdict: str  # "pass" | "FAIL" | "not measured" | "not applicable"
    measurements: tuple[Measurement, ...]
    why: str = ""  # for "not applicable"


def verdicts(ledger: Ledger) -> list[Verdict]:
    """Return SC-001..SC-010 in order, each judged from ``ledger``'s measurements only."""
    judged = []
    for criterion in CRITERIA:
        found = tuple(ledger.measurements_of(criterion.id))
        if not found and criterion.id in ledger.inapplicable:
            judged.append(Verdict(criterion, NOT_APPLICABLE, found,
                                  ledger.inapplicable[criterion.id]))
            continue
        if not found:
            verdict = NOT_MEASURED
        elif all(m.passed for m in found):
            verdict = "pass"
        else:
            verdict = "FAIL"
        judged.append(Verdict(criterion, verdict, found))
    return judged


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _criteria_markdown(judged: list[Verdict]) -> list[str]:
    lines = ["| criterion | demands | verdict | figure measured | measured by |",
             "|---|---|---|---|---|"]
    for item in judged:
        shown = {"pass": "pass", "FAIL": "**FAIL**", NOT_MEASURED: "_not measured_",
                 NOT_APPLICABLE: "_not applicable_"}
        if not item.measurements:
            figure = item.why or "no property measured it in this run"
            lines.append(f"| {item.criterion.id} | {_cell(item.criterion.title)} | "
                         f"{shown[item.verdict]} | {_cell(figure)} | — |")
            continue
        figures = "<br>".join(("" if m.passed else "**FAIL** ") + _cell(m.figure)
                              for m in item.measurements)
        by = "<br>".join(f"`{m.measured_by}`" for m in item.measurements)
        lines.append(f"| {item.criterion.id} | {_cell(item.criterion.title)} | "
                     f"{shown[item.verdict]} | {figures} | {by} |")
    return lines


def _coverage_markdown(ledger: Ledger) -> list[str]:
    entries = ledger.sorted_entries()
    if not entries:
        return ["No constraint was declared by the properties of this run."]
    lines = ["| table | column | rule | kind | enforced by | valid | violations | outcome |",
             "|---|---|---|---|---|---:|---:|---|"]
    lines += [f"| {e.table} | {e.column} | `{e.rule}` | {e.kind} | {', '.join(e.layers)} | "
              f"{e.valid} | {e.violations} | {e.outcome} |" for e in entries]
    for kind, title in SECTIONS:
        noted = [f"- **{e.table}.{e.column}** `{e.rule}`: {_cell(text)}"
                 for e in entries for text in e.notes(kind)]
        lines += ["", f"{title}:", "", *noted] if noted else []
    return lines


def _diagram_markdown(diagram: Diagram | None, png_name: str) -> list[str]:
    if diagram is None:
        return ["No diagram: the models could not be imported."]
    lines: list[str] = []
    if diagram.mermaid:
        lines += ["```mermaid", diagram.mermaid.rstrip(), "```"]
    if diagram.png is not None:
        lines += ["", f"![entity-relationship diagram]({png_name})"]
    if diagram.note:
        lines += ["", f"_{diagram.note}_"]
    return lines


def _markdown(judged: list[Verdict], ledger: Ledger, diagram: Diagram | None,
              generated: str, png_name: str) -> str:
    counts = {v: sum(item.verdict == v for item in judged) for v in _VERDICTS}
    lines = [
        "# Validation report",
        "",
        f"Generated {generated} from the measurements of this run: {counts['pass']} pass, "
        f"{counts['FAIL']} FAIL, {counts[NOT_MEASURED]} not measured, "
        f"{counts[NOT_APPLICABLE]} not applicable. A criterion no property "
        "measured is shown as _not measured_, never as a pass.",
        "",
        "## Success criteria",
        "",
        *_criteria_markdown(judged),
        "",
        "## Constraint coverage",
        "",
        *_coverage_markdown(ledger),
        "",
        "## Entity-relationship diagram",
        "",
        *_diagram_markdown(diagram, png_name),
    ]
    return "\n".join(lines) + "\n"


def _json(judged: list[Verdict], ledger: Ledger, diagram: Diagram | None,
          generated: str) -> dict[str, Any]:
    return {
        "generated": generated,
        "criteria": [
            {"id": item.criterion.id, "title": item.criterion.title,
             "figure_kind": item.criterion.figure, "verdict": item.verdict,
             "why": item.why,
             "measurements": [asdict(m) for m in item.measurements]}
            for item in judged
        ],
        "coverage": [{**asdict(e), "outcome": e.outcome} for e in ledger.sorted_entries()],
        "erd": None if diagram is None else {
            "mermaid": diagram.mermaid, "png": diagram.png.name if diagram.png else None,
            "note": diagram.note,
        },
    }


def write_validation_report(ledger: Ledger, metadata: sa.MetaData | None,
                            folder: Path) -> tuple[Path, Path]:
    """Write ``VALIDATION_REPORT.md`` and ``VALIDATION_REPORT.json`` (plus ``erd.png`` where
    Graphviz is installed) into ``folder`` and return the two report paths. ``metadata`` is the
    models' MetaData for the diagram (None when the models could not be imported). Raises
    OSError when the folder cannot be written."""
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / "erd.png"
    png.unlink(missing_ok=True)  # never show a diagram left by an earlier run
    diagram = draw_erd(metadata, png) if metadata is not None else None
    judged = verdicts(ledger)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    md, js = folder / "VALIDATION_REPORT.md", folder / "VALIDATION_REPORT.json"
    md.write_text(_markdown(judged, ledger, diagram, generated, png.name))
    js.write_text(json.dumps(_json(judged, ledger, diagram, generated), indent=1) + "\n")
    return md, js


def validation_summary_lines(ledger: Ledger) -> list[str]:
    """Terminal lines: the verdict count, then each failed or unmeasured criterion."""
    judged = verdicts(ledger)
    counts = {v: sum(item.verdict == v for item in judged) for v in _VERDICTS}
    lines = [f"success criteria: {counts['pass']} pass, {counts['FAIL']} FAIL, "
             f"{counts[NOT_MEASURED]} not measured, {counts[NOT_APPLICABLE]} not applicable"]
    for item in judged:
        if item.verdict == "FAIL":
            failed = next(m for m in item.measurements if not m.passed)
            lines.append(f"  {item.criterion.id} FAIL: {' '.join(failed.figure.split())[:300]}")
        elif item.verdict == NOT_MEASURED:
            lines.append(f"  {item.criterion.id} not measured: {item.criterion.title}")
        elif item.verdict == NOT_APPLICABLE:
            lines.append(f"  {item.criterion.id} not applicable: {item.why}")
    return lines
