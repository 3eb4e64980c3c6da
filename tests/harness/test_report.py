"""The coverage ledger counts, merges across processes and renders every constraint."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemafuzz.report import Ledger, summary_lines, write_reports


def _ledger(valid: int, violations: int, finding: str | None = None) -> Ledger:
    ledger = Ledger()
    ledger.declare("tasks", "title", "varchar(200)", "max_length", ["model", "database"])
    ledger.declare("tasks", "user_id", "fk_tasks_user_id_users", "foreign_key", ["database"])
    ledger.count("tasks", "title", "varchar(200)", valid=valid, violations=violations)
    if finding:
        ledger.finding("tasks", "user_id", "fk_tasks_user_id_users", finding)
    return ledger


def test_merge_through_json_adds_counts_and_keeps_findings_once(tmp_path: Path) -> None:
    first = _ledger(3, 1, "dangling user_id stored")
    first.measure("SC-004", passed=True, figure="ssl=true", measured_by="t::a")
    first.dump(tmp_path / "a.json")
    second = _ledger(2, 5, "dangling user_id stored")
    second.measure("SC-004", passed=False, figure="ssl=false", measured_by="t::b")
    second.dump(tmp_path / "b.json")
    merged = Ledger()
    for part in ("a.json", "b.json"):
        merged.merge(Ledger.load(tmp_path / part))
    title = merged.entries[("tasks", "title", "varchar(200)")]
    fk = merged.entries[("tasks", "user_id", "fk_tasks_user_id_users")]
    assert (title.valid, title.violations, title.outcome) == (5, 6, "held")
    assert fk.findings == ["dangling user_id stored"] and fk.outcome == "FINDING"
    assert [m.passed for m in merged.measurements_of("SC-004")] == [True, False]


def test_reports_list_every_declared_constraint(tmp_path: Path) -> None:
    md, js = write_reports(_ledger(1, 0), tmp_path)
    text = md.read_text()
    row = "| tasks | title | `varchar(200)` | max_length | database, model | 1 | 0 | valid only |"
    assert row in text
    assert "| tasks | user_id | `fk_tasks_user_id_users` |" in text and "not exercised" in text
    assert '"outcome": "valid only"' in js.read_text()
    assert summary_lines(_ledger(1, 1))[0].startswith("constraints: 2, held")


def test_counting_an_undeclared_constraint_is_an_error() -> None:
    with pytest.raises(KeyError):
        Ledger().count("tasks", "title", "nope", valid=1)
