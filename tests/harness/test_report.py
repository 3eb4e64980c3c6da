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


def test_a_test_keeps_its_last_note_per_rule_and_other_notes_stay() -> None:
    """While Hypothesis shrinks a failure each smaller example notes its values: one line per
    rule and test (the last: the example Hypothesis reports), not one per shrink step."""
    ledger = _ledger(1, 1)
    fk = ("tasks", "user_id", "fk_tasks_user_id_users")
    ledger.recording_test = "t::a"
    for value in ("user 7", "user 3", "user 0"):
        ledger.finding(*fk, f"dangling {value} stored")
    ledger.finding(*fk, "coerced 9", kind="coerced")
    ledger.recording_test = "t::b"
    ledger.finding(*fk, "dangling user 0 stored")  # the same note from another test
    ledger.recording_test = "t::a"
    ledger.finding(*fk, "dangling user 1 stored")  # t::b still has "user 0": it stays
    ledger.recording_test = None
    ledger.finding(*fk, "outside a test 1")
    ledger.finding(*fk, "outside a test 2")  # outside a test nothing is replaced
    entry = ledger.entries[fk]
    assert entry.findings == ["dangling user 0 stored", "dangling user 1 stored",
                              "outside a test 1", "outside a test 2"]
    assert entry.coerced == ["coerced 9"]


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


def test_the_terminal_table_lists_every_constraint_aligned_with_a_legend() -> None:
    ledger = _ledger(4, 2, "dangling user_id stored")
    rule = "fk_messages_conversation_id_conversations ON DELETE CASCADE"
    ledger.declare("messages", "conversation_id", rule, "on_delete", ["metadata", "orm"])
    ledger.count("messages", "conversation_id", rule, valid=30)
    lines = summary_lines(ledger)
    header = lines[1]
    assert header.split() == ["column", "rule", "enforced", "by", "valid", "violating", "outcome"]
    rows = {line.split()[0]: line for line in lines[2:5]}
    assert set(rows) == {"messages.conversation_id", "tasks.title", "tasks.user_id"}
    # Every row's cells start where the header's do.
    for name in ("rule", "enforced by", "outcome"):
        start = header.index(name)
        assert all(row[start - 2:start] == "  " and row[start] != " " for row in rows.values())
    assert "[1] ON DELETE CASCADE" in rows["messages.conversation_id"]
    assert "30 deletes" in rows["messages.conversation_id"]
    assert rows["messages.conversation_id"].endswith("  held")  # deletes are its exercise
    assert rows["tasks.title"].endswith("  held") and rows["tasks.user_id"].endswith("FINDING")
    assert "  [1] fk_messages_conversation_id_conversations" in lines
    assert any(line.startswith("  held: its valid rows were stored") for line in lines)
    assert lines[-2:] == ["  tasks.user_id fk_tasks_user_id_users:",
                          "      finding: dangling user_id stored"]
