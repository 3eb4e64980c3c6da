"""The three kinds of finding and their verdicts (schemafuzz.verdicts), the ledger that counts
them, ``accept_unguarded`` as configured, and root causes reported once."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemafuzz.configuration import ConfigurationError, read_configuration
from schemafuzz.findings import ADVICE, DRIFT, UNGUARDED, Finding
from schemafuzz.report import Ledger
from schemafuzz.report.render import summary_lines
from schemafuzz.verdicts import RootCauses, cannot_generate, conclude, rule_keys

MIN_LENGTH = ("item", "title", "Field(min_length=1)")


def _finding(kind: str) -> Finding:
    return Finding(*MIN_LENGTH, ["model"], "only the model refuses this value", "", kind=kind)


def test_drift_fails_and_is_counted_as_drift() -> None:
    ledger = Ledger()
    with pytest.raises(pytest.fail.Exception, match=r"^FINDING item.title \[Field"):
        conclude(ledger, _finding(DRIFT))
    entry = ledger.entries[MIN_LENGTH]
    assert entry.outcome == "FINDING" and entry.findings and not entry.unguarded


def test_unguarded_fails_unless_the_project_accepts_it() -> None:
    ledger = Ledger()
    keys = rule_keys("min_length", "Field(min_length=1)", {"min": 1})
    with pytest.raises(pytest.fail.Exception, match=r"^UNGUARDED item.title"):
        conclude(ledger, _finding(UNGUARDED), accepted=frozenset({"item.body:min_length"}),
                 keys=keys)
    assert ledger.entries[MIN_LENGTH].outcome == "UNGUARDED"
    accepted = Ledger()
    conclude(accepted, _finding(UNGUARDED), accepted=frozenset({"item.title:min_length"}),
             keys=keys)
    entry = accepted.entries[MIN_LENGTH]
    assert entry.accepted and not entry.unguarded and "(unguarded, accepted)" in entry.outcome
    whole_column = Ledger()
    conclude(whole_column, _finding(UNGUARDED), accepted=frozenset({"item.title"}), keys=keys)
    assert whole_column.entries[MIN_LENGTH].accepted


def test_advice_never_fails_and_is_listed() -> None:
    ledger = Ledger()
    conclude(ledger, _finding(ADVICE))
    entry = ledger.entries[MIN_LENGTH]
    assert entry.advice and entry.outcome.endswith("(advice)")
    lines = summary_lines(ledger)
    assert lines[0].endswith("findings: 0 drift, 0 unguarded, 1 advice")
    assert any(line.strip().startswith("advice: only the model refuses") for line in lines)


def test_rule_keys_name_the_kind_and_the_keyword() -> None:
    assert {"range", "ge", "Field(ge=0)"} <= rule_keys("range", "Field(ge=0)", {"ge": 0})
    assert "not_null" in rule_keys("not_null", "NOT NULL")


def test_kinds_survive_the_merge_of_worker_ledgers(tmp_path: Path) -> None:
    worker = Ledger()
    conclude(worker, _finding(ADVICE))
    worker.declare("t", "c", "r", "check", ["database"])
    worker.finding("t", "c", "r", "rounded", "coerced")
    worker.dump(tmp_path / "w.json")
    merged = Ledger()
    merged.merge(Ledger.load(tmp_path / "w.json"))
    assert merged.entries[MIN_LENGTH].advice == ["only the model refuses this value"]
    assert merged.entries[("t", "c", "r")].outcome == "not exercised (by coercion)"


def test_accept_unguarded_from_the_table_and_the_option(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.schemafuzz]\nmodels = "m"\n'
                         'accept_unguarded = ["item.title:min_length"]\n')
    configuration = read_configuration(pyproject, {"accept_unguarded": "book.pages:le, a.b"})
    assert configuration.accept_unguarded == {"item.title:min_length", "book.pages:le", "a.b"}
    pyproject.write_text('[tool.schemafuzz]\naccept_unguarded = "item.title"\n')
    with pytest.raises(ConfigurationError, match="must be a list of"):
        read_configuration(pyproject, {})


def test_a_root_cause_fails_once_then_blocks_its_tables() -> None:
    ledger, causes = Ledger(), RootCauses()
    finding = Finding("task", "priority", "SQLSTATE 22P02", ["model"], "refused")
    with pytest.raises(pytest.skip.Exception) as first:  # travels as a skip: no shrinking
        causes.found(ledger, "refused: task", finding, "t::first", blocks=["task"])
    assert type(first.value).__name__ == "_RootCauseFound"
    assert ledger.entries[("task", "priority", "SQLSTATE 22P02")].outcome == "FINDING"
    with pytest.raises(pytest.skip.Exception, match=r"blocked by FINDING task.priority .* "
                                                    r"\(reported by t::first\)") as later:
        causes.check(["user", "task"])
    assert type(later.value) is pytest.skip.Exception
    causes.check(["user"])  # another table: not blocked


def test_cannot_generate_names_the_column_and_the_fix() -> None:
    line = cannot_generate({"user.email": "the model rejects the values the constraints allow "
                                          "(value is not a valid email address)"},
                           RuntimeError("Unsatisfiable"))
    assert line.startswith("cannot generate for user.email: the model rejects")
    assert line.endswith("register_field_strategy")


def test_a_column_type_without_a_strategy_is_reported_once_as_not_generated() -> None:
    from schemafuzz.outcomes import declare_catalogue
    from tests.strategies.test_catalogue import Odd

    ledger = Ledger()
    declare_catalogue(ledger, [Odd])
    [entry] = [e for e in ledger.entries.values() if e.kind == "unsupported"]
    assert (entry.table, entry.column, entry.outcome) == ("sf_odd", "tags", "not generated")
    assert entry.unsupported[0].startswith("ARRAY of varchar has no strategy (only "
                                           "one-dimensional arrays")
    assert "register_field_strategy" in entry.unsupported[0]


def test_the_orms_own_statements_are_seen_on_tables_named_by_reserved_words() -> None:
    from schemafuzz.test_foreign_keys import _StatementLog

    log = _StatementLog(['SELECT "order".id FROM "order" WHERE %(param_1)s = "order".cid',
                         "DELETE FROM task WHERE task.id = %(id)s"])
    assert len(log.touching("order")) == 1 and len(log.touching("task")) == 1
    assert log.touching("user") == []


def test_a_finding_hypothesis_cannot_replay_is_reported_as_the_finding() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.errors import FlakyFailure

    from schemafuzz.verdicts import _grouped_findings

    calls = []

    @settings(database=None, max_examples=5)
    @given(st.integers())
    def fails_once(value: int) -> None:  # the first example fails, its replay passes
        calls.append(value)
        if len(calls) == 1:
            pytest.fail("FINDING user.name [NOT NULL; declared by model]: stored", pytrace=False)

    with pytest.raises(FlakyFailure) as raised:
        fails_once()
    text = _grouped_findings(raised.value)
    assert text is not None and text.startswith("FINDING user.name [NOT NULL")
    assert "could not replay" in text and "object at 0x" not in text
    assert _grouped_findings(ValueError("not ours")) is None


def test_distinct_findings_raised_together_are_reported_as_the_findings() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from schemafuzz.verdicts import _grouped_findings

    @settings(database=None, max_examples=200, report_multiple_bugs=True)
    @given(st.integers())
    def two_findings(value: int) -> None:  # two failures of distinct origins: grouped
        if value > 0:
            pytest.fail("FINDING task.title [varchar(200)]: stored", pytrace=False)
        if value < 0:
            try:
                raise LookupError("a context tells this failure from the first")
            except LookupError:
                pytest.fail("FINDING user.name [NOT NULL]: stored", pytrace=False)

    with pytest.raises(BaseExceptionGroup) as raised:
        two_findings()
    text = _grouped_findings(raised.value)
    assert text is not None and "object at 0x" not in text
    assert set(text.splitlines()) == {"FINDING task.title [varchar(200)]: stored",
                                      "FINDING user.name [NOT NULL]: stored"}


def test_fixtures_hypothesis_prints_have_readable_reprs() -> None:
    from schemafuzz.fixtures import Verdict
    from schemafuzz.report.ledger import Ledger
    from schemafuzz.verdicts import RootCauses

    ledger = Ledger()
    verdict = Verdict(ledger, RootCauses(), frozenset(), "test_constraints.py::test_x")
    assert repr(ledger) == "Ledger(constraints=0, measurements=0)"
    assert repr(verdict) == "Verdict(test='test_constraints.py::test_x')"

