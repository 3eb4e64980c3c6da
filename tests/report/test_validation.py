"""The validation report judges SC-001..SC-010 only from the run's measurements, lists the
constraint coverage and draws the models as an entity-relationship diagram."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.app.models import metadata as backend_metadata
from schemafuzz.report import Ledger
from schemafuzz.report.criteria import CRITERIA, measuring
from schemafuzz.report.erd import draw_erd
from schemafuzz.report.validation import (
    validation_summary_lines,
    verdicts,
    write_validation_report,
)


def _ledger() -> Ledger:
    ledger = Ledger()
    ledger.measure("SC-004", passed=True, figure="pg_stat_ssl.ssl=true", measured_by="t::a")
    ledger.measure("SC-009", passed=True, figure="Index Scan on ix", measured_by="t::b")
    ledger.measure("SC-009", passed=False, figure="Seq Scan on tasks", measured_by="t::c")
    ledger.declare("tasks", "title", "varchar(200)", "max_length", ["database", "model"])
    ledger.count("tasks", "title", "varchar(200)", valid=3, violations=2)
    return ledger


def test_verdicts_come_only_from_measurements() -> None:
    judged = {v.criterion.id: v.verdict for v in verdicts(_ledger())}
    assert list(judged) == [f"SC-{n:03d}" for n in range(1, 11)]
    assert judged["SC-004"] == "pass"
    assert judged["SC-009"] == "FAIL"  # one failed measurement fails the criterion
    assert {judged[c] for c in judged if c not in ("SC-004", "SC-009")} == {"not measured"}


def test_report_lists_every_criterion_coverage_and_diagram(tmp_path: Path) -> None:
    md, js = write_validation_report(_ledger(), backend_metadata, tmp_path)
    text = md.read_text()
    for criterion in CRITERIA:
        assert f"| {criterion.id} | " in text
    assert "| SC-001 | Schema after `alembic upgrade head` matches the models | _not measured_ |" \
        in text
    assert "| SC-009 |" in text and "**FAIL** Seq Scan on tasks" in text
    assert "| tasks | title | `varchar(200)` | max_length | database, model | 3 | 2 | held |" \
        in text
    assert "```mermaid\nerDiagram" in text and "users ||--o{ tasks : user_id" in text
    assert "UUID id PK" in text and "TIMESTAMPTZ created_at" in text  # PostgreSQL types
    data = json.loads(js.read_text())
    by_id = {c["id"]: c for c in data["criteria"]}
    assert by_id["SC-004"]["verdict"] == "pass"
    assert by_id["SC-004"]["measurements"][0]["figure"] == "pg_stat_ssl.ssl=true"
    assert by_id["SC-002"] == {**by_id["SC-002"], "verdict": "not measured", "measurements": []}
    assert data["coverage"][0]["outcome"] == "held"
    assert "conversations ||--o{ messages : conversation_id" in data["erd"]["mermaid"]
    if shutil.which("dot"):
        assert (tmp_path / "erd.png").read_bytes()[:4] == b"\x89PNG"
        assert data["erd"]["png"] == "erd.png" and "![entity-relationship diagram]" in text
    else:
        assert not (tmp_path / "erd.png").exists() and "Graphviz" in data["erd"]["note"]


def test_without_models_the_report_is_still_written(tmp_path: Path) -> None:
    md, _ = write_validation_report(Ledger(), None, tmp_path)
    text = md.read_text()
    assert "0 pass, 0 FAIL, 10 not measured, 0 not applicable" in text
    assert "No diagram: the models could not be imported." in text


def test_diagram_names_enum_labels_and_png_needs_graphviz(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    diagram = draw_erd(backend_metadata, tmp_path / "erd.png")
    assert 'ENUM role "values: user, assistant"' in diagram.mermaid
    assert diagram.png is None and "Graphviz" in diagram.note
    other = sa.MetaData()
    sa.Table("solo", other, sa.Column("id", sa.Integer, primary_key=True))
    assert "solo {\n    INTEGER id PK" in draw_erd(other).mermaid


def test_summary_lines_name_failures_and_unmeasured() -> None:
    lines = validation_summary_lines(_ledger())
    assert lines[0] == "success criteria: 1 pass, 1 FAIL, 8 not measured, 0 not applicable"
    assert "  SC-009 FAIL: Seq Scan on tasks" in lines
    assert any(line.startswith("  SC-001 not measured") for line in lines)


def test_measuring_records_pass_fail_and_nothing_for_a_skip() -> None:
    ledger = Ledger()
    with measuring(ledger, "SC-006", "t::ok") as sc:
        sc.figure = "20 sessions in 0.6 s"
    with pytest.raises(AssertionError), measuring(ledger, "SC-006", "t::bad") as sc:
        sc.figure = "peak 16 connections"
        raise AssertionError("more than 15")
    with pytest.raises(pytest.skip.Exception), measuring(ledger, "SC-006", "t::skip"):
        pytest.skip("not this app")
    recorded = [(m.passed, m.figure, m.measured_by) for m in ledger.measurements_of("SC-006")]
    assert recorded == [
        (True, "20 sessions in 0.6 s", "t::ok"),
        (False, "peak 16 connections; AssertionError: more than 15", "t::bad"),
    ]
    with pytest.raises(ValueError, match="SC-011"), measuring(ledger, "SC-011", "t::x"):
        pass
