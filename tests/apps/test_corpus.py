"""The corpus of real-world patterns: apps written the way SQLModel apps are written in the wild
(``todo``, ``catalog``, ``fullstack``, ``naive_clock``, ``origin``). Each clean app runs green
with no finding of the suite's own making; each drifted twin fails with the expected finding for
each drift and no other failure, and a table whose valid rows cannot be stored is one failure,
the tests that depend on it skipped as blocked by it.

The three kinds of finding are proven here end to end: drift (the todo app's production dump),
unguarded (the fullstack app's ``min_length`` only Pydantic enforces, unless accepted; the origin
app's nullable role) and advice (the todo app's ORM cascades without ``passive_deletes``, and
enums stored by member name).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .conftest import APPS, failed_tests, run_properties

TODO_DRIFTED = f"sql:{APPS / 'todo' / 'drifted.sql'}"


def _output(result: Any) -> str:
    return str(result.stdout + result.stderr)


def _assert_no_suite_error(output: str) -> None:
    for symptom in ("Unsatisfiable", "FailedHealthCheck", "Traceback", "object at 0x", ".? [",
                    "None ON DELETE", "nothing exercised"):
        assert symptom not in output, f"{symptom!r} in:\n{output[-4000:]}"
    # The only values that cannot be generated are violations no value can make alone.
    for line in output.splitlines():
        if "cannot generate" in line:
            assert "(the rule is shadowed by it)" in line, line


def test_todo_app_is_green_and_gets_its_advice(tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "todo", None,
                            "--schemafuzz-schema", "metadata")
    output = _output(result)
    assert result.returncode == 0, output[-4000:]
    _assert_no_suite_error(output)
    assert "0 drift, 0 unguarded, 4 advice" in output, output[-4000:]
    # Relationship(cascade_delete=True) and the link table: same end state through the ORM and
    # SQL, a better way (passive_deletes=True); the enum stored by member name.
    assert "advice: the database does ON DELETE CASCADE, and both end in the same state" in output
    assert "stored by member name (LOW, HIGH) while the values clients send are low, high" \
        in output
    # Unnamed foreign keys are named as PostgreSQL names them.
    assert "task_owner_id_fkey ON DELETE CASCADE" in output
    # Its timestamps come from default_factory: SC-007 (the database fills them) is not
    # applicable, not a pass over nothing (task.done's server default is no timestamp).
    assert ("SC-007 not applicable: no datetime column has a database default (user.created_at, "
            "task.created_at: filled by the application, if at all)") in output, output[-3000:]
    # The connection criteria are the reference backend's (its engine factory and tables).
    for criterion in ("SC-003", "SC-004", "SC-006", "SC-009"):
        assert f"{criterion} not applicable: app-specific: the reference backend's engine" \
            in output, output[-3000:]


def test_todo_production_dump_drifts_are_each_found_once(tmp_path: Path,
                                                        schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "todo", None,
                            "--schemafuzz-schema", TODO_DRIFTED)
    output = _output(result)
    assert result.returncode == 1, output[-4000:]
    assert failed_tests(result) == {
        # The enum holds the values while SQLAlchemy sends the names: no task can be stored,
        # the root cause of every test needing a task row (reported once).
        "test_valid_rows_are_stored_and_read_back_equal[task]",
        # "user".name lost its NOT NULL; the flush probe of the same rule is blocked by it.
        "test_violations_are_refused_with_their_sqlstate[user.name:NOT NULL]",
        # The schema comparison names all three drifts, task.title as TEXT among them.
        "test_schema_under_test_equals_the_models",
    }, output[-6000:]
    assert "FINDING task.priority [SQLSTATE 22P02" in output
    assert "FINDING user.name [NOT NULL; declared by metadata, model]" in output
    assert ("task.title [column type; declared by database, metadata]: column type: the models "
            "have character varying(200), the schema under test has text") in output
    assert "enum type priority [priority" in output and "labels ('low', 'high')" in output
    blocked = re.findall(r"^SKIPPED \[(\d+)\] .*blocked by FINDING task\.priority", output,
                         re.MULTILINE)
    assert blocked and sum(map(int, blocked)) >= 10, output[-4000:]
    assert "blocked by FINDING user.name [NOT NULL" in output  # the flush probe
    _assert_no_suite_error(output.replace("task.?", ""))


def test_catalog_app_is_green(tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "catalog", None,
                            "--schemafuzz-schema", "metadata")
    output = _output(result)
    assert result.returncode == 0, output[-4000:]
    _assert_no_suite_error(output)
    assert " 0 drift, 0 unguarded" in output, output[-4000:]
    assert "not generated" not in output  # ARRAY, JSON/JSONB, bytes, date, time: all drawn
    # A CHECK equal to the numeric type's own limit: every value over it breaks both.
    assert ("cannot generate for product.price: no value breaks ck_product_price_at_most alone: "
            "those drawn also broke numeric(7,2)") in output


def test_fullstack_app_reports_only_the_varchar_limit_old_data_cannot_hold(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "fullstack", "alembic.ini")
    output = _output(result)
    assert result.returncode == 1, output[-4000:]
    # Rows valid at the first revision (unbounded varchar) cannot be held by the second's
    # varchar(255): the true finding. Every other property passes, keys moved to uuid included.
    assert failed_tests(result) == {"test_data_preservation[fs_0001]"}, \
        output[-6000:]
    assert "upgrade of revision fs_0002" in output
    assert "value too long for type character varying(255)" in output
    assert "0 drift, 0 unguarded" in output and "1 unguarded accepted" in output, output[-4000:]
    assert "rows not traceable" not in output or "primary key type changed" in output
    for symptom in ("Unsatisfiable", "FailedHealthCheck", "cannot generate", "object at 0x"):
        assert symptom not in output, output[-4000:]
    coverage = (tmp_path / ".schemafuzz" / "coverage.md").read_text()
    assert "## Unguarded rules the project accepts (accept_unguarded)" in coverage
    assert "**item.title** `Field(min_length=1)`" in coverage


def test_fullstack_rule_only_pydantic_enforces_is_unguarded_unless_accepted(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    selection = ("-k", "violations and item.title")
    refused = run_properties(tmp_path / "refused", schemafuzz_server, "fullstack", "alembic.ini",
                             *selection, target="test_constraints.py", accept=False)
    output = _output(refused)
    assert refused.returncode == 1, output[-4000:]
    assert failed_tests(refused) == {
        "test_violations_are_refused_with_their_sqlstate"
        "[item.title:Field(min_length=1)]"}, output[-4000:]
    assert ("UNGUARDED item.title [Field(min_length=1); declared by model]: only the model "
            "refuses this value: PostgreSQL stored it") in output
    assert "add CHECK (char_length(title) >= 1)" in output
    assert 'accept_unguarded = ["item.title:min_length"]' in output
    accepted = run_properties(tmp_path / "accepted", schemafuzz_server, "fullstack",
                              "alembic.ini", *selection, "--schemafuzz-accept-unguarded",
                              "item.titel:min_length,item.title:max_length,user.email:pattern",
                              target="test_constraints.py")
    assert accepted.returncode == 0, _output(accepted)[-4000:]
    assert "accepted: only the model refuses this value" in accepted.stdout
    # A misspelt entry is said, not silently ignored.
    assert ("accept_unguarded: item.titel:min_length names no column of the models"
            in accepted.stdout), accepted.stdout[-3000:]
    # An entry for a column the run broke, which accepted nothing, is named too; one for a
    # column this -k run never tried (user.email) is not: the run says nothing about it.
    assert ("accept_unguarded: item.title:max_length accepted nothing in this run"
            in accepted.stdout), accepted.stdout[-3000:]
    assert "user.email:pattern" not in accepted.stdout, accepted.stdout[-3000:]


def test_an_exception_of_the_apps_own_code_is_one_finding_per_column(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "naive_clock", None,
                            "--schemafuzz-schema", "metadata")
    output = _output(result)
    assert result.returncode == 1, output[-4000:]
    assert failed_tests(result) == {"test_valid_rows_are_stored_and_read_back_equal[event]"}, \
        output[-4000:]
    assert ("FINDING event.happened_at [app code; declared by model]: the app's code or "
            "SQLModel/SQLAlchemy refused a generated row before it reached PostgreSQL: "
            "ValueError: Datetime values must have timezone information") in output
    blocked = re.findall(r"^SKIPPED \[(\d+)\] .*blocked by FINDING event.happened_at", output,
                         re.MULTILINE)
    assert blocked and sum(map(int, blocked)) >= 5, output[-4000:]
    assert "Traceback" not in output and "StatementError" not in output, output[-4000:]


def test_the_origin_apps_enum_by_name_is_advice_and_its_nullable_role_unguarded(
        tmp_path: Path, schemafuzz_server: Any) -> None:
    result = run_properties(tmp_path, schemafuzz_server, "origin", None,
                            "--schemafuzz-schema", "metadata")
    output = _output(result)
    assert result.returncode == 1, output[-4000:]
    assert failed_tests(result) == {
        "test_violations_are_refused_with_their_sqlstate[message.role:NOT NULL]"}, output[-4000:]
    assert ("UNGUARDED message.role [NOT NULL; declared by model]: only the model refuses this "
            "value: PostgreSQL stored it") in output
    assert "make the column NOT NULL (op.alter_column('message', 'role', nullable=False))" \
        in output
    assert "0 drift, 1 unguarded, 1 advice" in output
    assert "advice: stored by member name (USER, ASSISTANT) while the values clients send are " \
        "user, assistant" in output
