"""The validation report: SC-001..SC-010 with their verdicts and the figures measured in this run,
the constraint-coverage table and an entity-relationship diagram of the schema under test,
written to ``VALIDATION_REPORT.md`` and ``VALIDATION_REPORT.json`` (and
``diagrams/entity-relationship.png``).

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
from .snapshot import snapshot_metadata

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
            "mermaid": diagram.mermaid, "png": DIAGRAM_PNG.as_posix() if diagram.png else None,
            "note": diagram.note,
        },
    }


DIAGRAM_PNG = Path("diagrams") / "entity-relationship.png"


def _marks(ledger: Ledger) -> dict[tuple[str, str], str]:
    """Each column's note in the diagram: the findings on it, and a foreign key's ON DELETE."""
    notes: dict[tuple[str, str], list[str]] = {}
    for e in ledger.sorted_entries():
        for kind, label in (("drift", "FINDING"), ("unguarded", "UNGUARDED")):
            if e.notes(kind):
                notes.setdefault((e.table, e.column), []).append(f"{label} {e.rule}")
    for name, table in (ledger.schema or {}).get("tables", {}).items():
        for key in table["foreign_keys"]:
            notes.setdefault((name, key["columns"][0]), []).append(f"ON DELETE {key['ondelete']}")
    return {column: "; ".join(texts) for column, texts in notes.items()}


def _diagram(ledger: Ledger, metadata: sa.MetaData | None, png: Path) -> Diagram | None:
    """The diagram of the schema the run tested (its catalogue, read when it was built), or of
    the models when no property built it; None when neither is there."""
    if ledger.schema is not None:
        diagram = draw_erd(snapshot_metadata(ledger.schema), png, _marks(ledger))
        source = (f"Drawn from the database's catalogue of the schema under test (built from "
                  f"{ledger.schema['source']}); a column with a finding is marked.")
    elif metadata is not None:
        diagram = draw_erd(metadata, png, _marks(ledger))
        source = ("Drawn from the models' metadata: no property of this run built the schema "
                  "under test.")
    else:
        return None
    note = " ".join(part for part in (source, diagram.note) if part)
    return Diagram(diagram.mermaid, diagram.png, note)


def write_validation_report(ledger: Ledger, metadata: sa.MetaData | None,
                            folder: Path) -> tuple[Path, Path]:
    """Write ``VALIDATION_REPORT.md`` and ``VALIDATION_REPORT.json`` (plus the diagram's PNG at
    ``diagrams/entity-relationship.png`` when it can be rendered) into ``folder`` and return
    the two report paths. The diagram is the schema under test as the ledger's snapshot holds
    it, else ``metadata`` (the models' MetaData; None when they could not be imported). Raises
    OSError when the folder cannot be written."""
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / DIAGRAM_PNG
    png.unlink(missing_ok=True)  # never show a diagram left by an earlier run
    diagram = _diagram(ledger, metadata, png)
    judged = verdicts(ledger)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    md, js = folder / "VALIDATION_REPORT.md", folder / "VALIDATION_REPORT.json"
    md.write_text(_markdown(judged, ledger, diagram, generated, DIAGRAM_PNG.as_posix()))
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
