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
from .render import SECTIONS, scope_header
from .snapshot import snapshot_metadata

__all__ = [
    "MEASURED",
    "NOT_APPLICABLE",
    "NOT_MEASURED",
    "Verdict",
    "validation_summary_lines",
    "verdict_counts",
    "verdicts",
    "write_validation_report",
]

NOT_MEASURED = "not measured"
NOT_APPLICABLE = "not applicable"
MEASURED = "measured"  # a benchmark the spec gives no threshold: a figure, not a pass
_VERDICTS = ("pass", "FAIL", MEASURED, NOT_MEASURED, NOT_APPLICABLE)


@dataclass(frozen=True)
class Verdict:
    """One criterion's outcome in this run, with the measurements behind it."""

    criterion: Criterion
    verdict: str  # "pass" | "FAIL" | "measured" | "not measured" | "not applicable"
    measurements: tuple[Measurement, ...]
    why: str = ""  # for "not applicable", and "not measured" when the run could not measure it


def verdicts(ledger: Ledger) -> list[Verdict]:
    """Return SC-001..SC-010 in order, each judged from ``ledger``'s measurements only: FAIL
    when one failed its threshold, ``measured`` (not a pass) for a criterion without one."""
    judged = []
    for criterion in CRITERIA:
        found = tuple(ledger.measurements_of(criterion.id))
        if not found and criterion.id in ledger.inapplicable:
            judged.append(Verdict(criterion, NOT_APPLICABLE, found,
                                  ledger.inapplicable[criterion.id]))
            continue
        why = ledger.unmeasurable.get(criterion.id, "")
        if any(not m.passed for m in found):
            verdict, why = "FAIL", ""
        elif not found or why:
            verdict = NOT_MEASURED
        else:
            verdict = "pass" if criterion.threshold else MEASURED
        judged.append(Verdict(criterion, verdict, found, why))
    return judged


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _criteria_markdown(judged: list[Verdict]) -> list[str]:
    lines = ["| criterion | demands | threshold | verdict | figure measured | measured by |",
             "|---|---|---|---|---|---|"]
    for item in judged:
        shown = {"pass": "pass", "FAIL": "**FAIL**", MEASURED: "_measured_",
                 NOT_MEASURED: "_not measured_", NOT_APPLICABLE: "_not applicable_"}
        threshold = _cell(item.criterion.threshold) or "none in the spec"
        if not item.measurements or item.verdict == NOT_MEASURED:
            figure = item.why or "no property measured it in this run"
            lines.append(f"| {item.criterion.id} | {_cell(item.criterion.title)} | {threshold} | "
                         f"{shown[item.verdict]} | {_cell(figure)} | — |")
            continue
        figures = "<br>".join(("" if m.passed else "**FAIL** ") + _cell(m.figure)
                              for m in item.measurements)
        by = "<br>".join(f"`{m.measured_by}`" for m in item.measurements)
        lines.append(f"| {item.criterion.id} | {_cell(item.criterion.title)} | {threshold} | "
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
    lines = [
        "# Validation report",
        "",
        *scope_header(ledger),
        f"Generated {generated} from the measurements of this run: {verdict_counts(judged)}. "
        "A criterion no property measured is shown as _not measured_, and a benchmark the "
        "spec gives no threshold as _measured_: neither is a pass.",
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
        "scope": None if ledger.scope is None else {**ledger.scope.to_json(),
                                                    "partial": ledger.scope.partial},
        "criteria": [
            {"id": item.criterion.id, "title": item.criterion.title,
             "figure_kind": item.criterion.figure, "threshold": item.criterion.threshold,
             "verdict": item.verdict,
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
    diagram = _diagram(ledger, metadata, png)  # reuses the last run's PNG when it is unchanged
    if diagram is None:
        png.unlink(missing_ok=True)  # never show a diagram left by an earlier run
    judged = verdicts(ledger)
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    md, js = folder / "VALIDATION_REPORT.md", folder / "VALIDATION_REPORT.json"
    md.write_text(_markdown(judged, ledger, diagram, generated, DIAGRAM_PNG.as_posix()))
    js.write_text(json.dumps(_json(judged, ledger, diagram, generated), indent=1) + "\n")
    return md, js


def verdict_counts(judged: list[Verdict]) -> str:
    """``4 pass, 1 FAIL, 1 measured, 4 not measured, 0 not applicable`` for ``judged``."""
    counts = {v: sum(item.verdict == v for item in judged) for v in _VERDICTS}
    return ", ".join(f"{counts[v]} {v}" for v in _VERDICTS)


def _short_figure(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def validation_summary_lines(ledger: Ledger) -> list[str]:
    """Terminal lines: the verdict counts, then one line per criterion: its verdict, the figure
    behind it (the failed one for a FAIL) and the threshold it was judged against."""
    judged = verdicts(ledger)
    lines = [f"success criteria: {verdict_counts(judged)}"]
    for item in judged:
        criterion = item.criterion
        if item.verdict == NOT_MEASURED:
            lines.append(f"  {criterion.id} not measured: "
                         + (item.why or f"no property of this run measured it ({criterion.title})"))
            continue
        if item.verdict == NOT_APPLICABLE:
            lines.append(f"  {criterion.id} not applicable: {item.why}")
            continue
        shown = next((m for m in item.measurements if not m.passed), item.measurements[0])
        more = len(item.measurements) - 1
        figure = _short_figure(shown.figure, 300 if item.verdict == "FAIL" else 160)
        against = (f"threshold: {criterion.threshold}" if criterion.threshold
                   else "no threshold in the spec")
        lines.append(f"  {criterion.id} {item.verdict}: {figure}"
                     + (f" (+{more} more)" if more else "") + f" [{against}]")
    return lines
