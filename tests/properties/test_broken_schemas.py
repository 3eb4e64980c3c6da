"""Each deliberately broken schema makes the properties fail with a finding that names the
right table, column and constraint; the unbroken schema passes the same selection."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from schemafuzz.harness import DatabaseFactory

from .conftest import REPO, broken_dump, copy_models_with, run_properties

CONSTRAINTS = str(REPO / "properties" / "test_constraints.py")
FOREIGN_KEYS = str(REPO / "properties" / "test_foreign_keys.py")
TIMESTAMPS = str(REPO / "properties" / "test_timestamps.py")

# (id, SQL appended to the reference dump, properties file, -k selection, expected finding,
#  the fix it names, '' when it names none); " | " separates findings any of which will do)
BROKEN = [
    ("title widened to TEXT", "ALTER TABLE tasks ALTER COLUMN title TYPE text;",
     CONSTRAINTS, "violations and tasks.title:varchar",
     "FINDING tasks.title [varchar(200)",
     "fix: in a migration, op.alter_column('tasks', 'title', type_=sa.String(200)); or, if "
     "the database is right, drop varchar(200) from the model"),
    ("NOT NULL dropped", "ALTER TABLE tasks ALTER COLUMN title DROP NOT NULL;",
     CONSTRAINTS, "violations and tasks.title:NOT",
     "FINDING tasks.title [NOT NULL",
     "fix: in a migration, op.alter_column('tasks', 'title', nullable=False)"),
    ("not-blank CHECK dropped", "ALTER TABLE tasks DROP CONSTRAINT ck_tasks_title_not_blank;",
     CONSTRAINTS, "violations and tasks.title:ck_tasks_title_not_blank",
     "FINDING tasks.title [ck_tasks_title_not_blank",
     "fix: in a migration, op.create_check_constraint('ck_tasks_title_not_blank', 'tasks', "),
    ("enum stored by name",
     "ALTER TYPE message_role RENAME VALUE 'user' TO 'USER';\n"
     "ALTER TYPE message_role RENAME VALUE 'assistant' TO 'ASSISTANT';",
     CONSTRAINTS, "valid_rows and messages",
     "FINDING messages.role", ""),
    ("ON DELETE CASCADE removed",
     "ALTER TABLE tasks DROP CONSTRAINT fk_tasks_user_id_users, ADD CONSTRAINT "
     "fk_tasks_user_id_users FOREIGN KEY (user_id) REFERENCES users(id);",
     FOREIGN_KEYS, "tasks.user_id",
     "FINDING tasks.user_id [fk_tasks_user_id_users ON DELETE CASCADE",
     "fix: in a migration, op.drop_constraint('fk_tasks_user_id_users', 'tasks', "
     "type_='foreignkey') then op.create_foreign_key('fk_tasks_user_id_users', 'tasks', "
     "'users', ['user_id'], ['id'], ondelete='CASCADE'); or, if the database is right, in the "
     "model, Field(foreign_key='users.id') on tasks.user_id"),
    ("FK dropped", "ALTER TABLE tasks DROP CONSTRAINT fk_tasks_user_id_users;",
     CONSTRAINTS, "violations and tasks.user_id:fk",
     "FINDING tasks.user_id [fk_tasks_user_id_users",
     "fix: in a migration, op.create_foreign_key('fk_tasks_user_id_users', 'tasks', 'users', "
     "['user_id'], ['id'], ondelete='CASCADE')"),
    ("updated_at not advanced by SQL updates",
     "DROP TRIGGER tasks_timestamps_before_update ON tasks;",
     TIMESTAMPS, "updates_keep and tasks",
     # The trigger kept created_at too: the finding names whichever of its two rules the
     # run's first failure shrinks to.
     "FINDING tasks.updated_at [updated_at advances on update"
     " | FINDING tasks.created_at [created_at is immutable", ""),
    ("naive timestamp",
     "ALTER TABLE tasks ALTER COLUMN created_at TYPE timestamp without time zone, "
     "ALTER COLUMN updated_at TYPE timestamp without time zone;",
     TIMESTAMPS, "timestamptz and tasks",
     "FINDING tasks.created_at [timestamptz", ""),
]


def _output(result: object) -> str:
    return str(getattr(result, "stdout", "")) + str(getattr(result, "stderr", ""))


def test_the_unbroken_schema_passes_every_selection(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, reference_dump: str) -> None:
    schema = broken_dump(tmp_path, reference_dump, "-- nothing broken")
    for _, _, path, selection, *_ in BROKEN:
        result = run_properties(tmp_path, schemafuzz_server, path, "-k", selection,
                                "--schemafuzz-schema", f"sql:{schema}")
        assert result.returncode == 0, f"{path} -k {selection!r}:\n{_output(result)[-3000:]}"


@pytest.mark.parametrize(("alteration", "path", "selection", "finding", "fix"),
                         [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_schema_is_caught_with_a_finding(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, reference_dump: str, alteration: str,
        path: str, selection: str, finding: str, fix: str) -> None:
    schema = broken_dump(tmp_path, reference_dump, alteration)
    result = run_properties(tmp_path, schemafuzz_server, path, "-k", selection,
                            "--schemafuzz-schema", f"sql:{schema}")
    output = _output(result)
    assert result.returncode == 1, output[-3000:]
    assert any(one in output for one in finding.split(" | ")), output[-3000:]
    assert fix in " ".join(output.split()), output[-3000:]
    assert (tmp_path / ".schemafuzz" / "partial" / "coverage.md").read_text().count("FINDING") >= 1


def test_passive_deletes_removed_is_advice_not_a_failure(
        tmp_path: Path, schemafuzz_server: DatabaseFactory) -> None:
    # ORM and SQL still end in the same state: the ORM's own statements before the database's
    # cascade are an efficiency hint, reported as advice; the run stays green.
    models = copy_models_with(tmp_path, '"passive_deletes": True', '"passive_deletes": False')
    result = run_properties(tmp_path, schemafuzz_server, FOREIGN_KEYS, "--schemafuzz-models",
                            models,
                            "--schemafuzz-schema", "metadata")
    output = _output(result)
    assert result.returncode == 0, output[-3000:]
    assert "0 drift, 0 unguarded, 3 advice" in output, output[-3000:]
    assert "advice: the database does ON DELETE CASCADE" in output, output[-3000:]
    assert "set passive_deletes=True" in output, output[-3000:]
    coverage = (tmp_path / ".schemafuzz" / "partial" / "coverage.md").read_text()
    assert "## Advice (same end state, a better way)" in coverage
    assert "FINDING" not in coverage


def test_a_parent_column_read_back_wrong_is_one_failure_and_no_crash(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, reference_dump: str) -> None:
    """users.created_at as a naive timestamp: every valid-rows test meets it (each child's rows
    carry a users parent); the first fails, the other three are blocked by it, and the domain
    machine reports the naive column as the timestamptz finding instead of crashing on a
    naive-aware comparison."""
    schema = broken_dump(tmp_path, reference_dump, "ALTER TABLE users ALTER COLUMN created_at "
                         "TYPE timestamp without time zone;")
    result = run_properties(tmp_path, schemafuzz_server, CONSTRAINTS,
                            str(REPO / "properties" / "test_stateful.py"), "-k",
                            "valid_rows or reference", "-rfs", "--tb=line",
                            "--schemafuzz-schema", f"sql:{schema}", "--hypothesis-seed=0")
    output = _output(result)
    assert result.returncode == 1, output[-3000:]
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    assert len(failed) == 2, failed
    assert sum("test_valid_rows_are_stored_and_read_back_equal" in line for line in failed) == 1
    assert "SKIPPED [3]" in result.stdout and "blocked by FINDING users.created_at [type" \
        in result.stdout, output[-3000:]
    assert "FINDING users.created_at [timestamptz" in result.stdout, output[-3000:]
    assert "TypeError" not in output, output[-3000:]


def test_the_report_draws_the_drifted_schema_not_the_models(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, reference_dump: str) -> None:
    """A dump whose tasks.title is TEXT: the validation report's diagram is that schema (read
    from the database the run built), with the column's finding on it, and a PNG is drawn."""
    schema = broken_dump(tmp_path, reference_dump,
                         "ALTER TABLE tasks ALTER COLUMN title TYPE text;")
    result = run_properties(tmp_path, schemafuzz_server, CONSTRAINTS, "-k",
                            "violations and tasks.title:varchar",
                            "--schemafuzz-schema", f"sql:{schema}")
    assert result.returncode == 1, _output(result)[-3000:]
    report = (tmp_path / ".schemafuzz" / "partial" / "VALIDATION_REPORT.md").read_text()
    diagram = report[report.index("## Entity-relationship diagram"):]
    assert 'TEXT title "FINDING varchar(200)"' in diagram, diagram
    assert f"built from sql:{schema}" in diagram
    assert 'UUID user_id FK "ON DELETE CASCADE,indexed"' not in diagram  # no model flags
    assert 'UUID user_id FK "ON DELETE CASCADE"' in diagram
    png = tmp_path / ".schemafuzz" / "partial" / "diagrams" / "entity-relationship.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    issues = (tmp_path / ".schemafuzz" / "partial" / "ISSUES.md").read_text()
    assert "- **tasks.title** `varchar(200)` (drift): breaks varchar(200)" in issues, issues


def test_a_narrowed_run_writes_partial_reports_beside_the_complete_ones(
        tmp_path: Path, schemafuzz_server: DatabaseFactory) -> None:
    """-k leaves most properties out: the reports go to .schemafuzz/partial/, headed with how
    much ran; the complete run's reports (here a stand-in) and the repro scripts of tests the
    run did not have are kept."""
    complete = tmp_path / ".schemafuzz" / "VALIDATION_REPORT.md"
    complete.parent.mkdir(parents=True)
    complete.write_text("# Validation report\n\nfrom the last complete run\n")
    kept = tmp_path / ".schemafuzz" / "repro" / "properties_test_x.py__test_other.sql"
    kept.parent.mkdir()
    kept.write_text("-- a failure of a test this run leaves out\n")
    result = run_properties(tmp_path, schemafuzz_server, CONSTRAINTS, "-k", "users.email",
                            "--schemafuzz-schema", "metadata")
    output = _output(result)
    assert result.returncode == 0, output[-3000:]
    assert complete.read_text().endswith("from the last complete run\n")
    assert kept.exists()
    partial = tmp_path / ".schemafuzz" / "partial"
    report = (partial / "VALIDATION_REPORT.md").read_text()
    scope = json.loads((partial / "VALIDATION_REPORT.json").read_text())["scope"]
    assert scope["partial"] and 0 < scope["ran"] < scope["collected"], scope
    assert f"**partial: {scope['ran']} of {scope['collected']} collected properties ran " \
        "(not collected: test_connection.py, test_foreign_keys.py, test_migrations.py, " \
        "test_schema.py, test_stateful.py, test_timestamps.py).**" in report, report[:600]
    assert f"partial: {scope['ran']} of {scope['collected']} collected properties ran" in output
    assert "reports in" in output and "are kept" in output
    assert (partial / "coverage.md").read_text().startswith("# Constraint coverage\n\n**partial")


def test_a_narrowed_run_that_records_nothing_says_so_and_keeps_the_reports(
        tmp_path: Path, schemafuzz_server: DatabaseFactory) -> None:
    """A -k selection whose tests record no constraint and no criterion writes no report and
    says so in the summary, instead of ending silently; earlier reports stay."""
    complete = tmp_path / ".schemafuzz" / "VALIDATION_REPORT.md"
    complete.parent.mkdir(parents=True)
    complete.write_text("from the last complete run\n")
    result = run_properties(tmp_path, schemafuzz_server,
                            str(REPO / "properties" / "test_timestamps.py"), "-k",
                            "messages_have_no_updated_at", "--schemafuzz-schema", "metadata")
    output = _output(result)
    assert result.returncode == 0, output[-3000:]
    assert re.search(r"partial: 1 of \d+ collected properties ran \(not collected: .*\); no "
                     r"report written: no property of this run recorded a constraint or a "
                     r"criterion \(the reports of earlier runs are kept\)", output), output[-2000:]
    assert complete.read_text() == "from the last complete run\n"
    assert not (tmp_path / ".schemafuzz" / "partial").exists()


def _line_of(path: Path, start: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1)
                if line.startswith(start))


def test_on_github_actions_a_finding_is_an_annotation_on_the_models_field(
        tmp_path: Path, schemafuzz_server: DatabaseFactory, reference_dump: str) -> None:
    """With GITHUB_ACTIONS=true the finding is also a workflow command pointing at the line of
    the field (declared in the non-table TaskBase), and JUnit XML carries its text."""
    schema = broken_dump(tmp_path, reference_dump,
                         "ALTER TABLE tasks ALTER COLUMN title TYPE text;")
    junit = tmp_path / "junit.xml"
    result = run_properties(tmp_path, schemafuzz_server, CONSTRAINTS, "-k",
                            "violations and tasks.title:varchar", f"--junitxml={junit}",
                            "--schemafuzz-schema", f"sql:{schema}",
                            env={"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(REPO)})
    assert result.returncode == 1, _output(result)[-3000:]
    models = REPO / "backend" / "app" / "models" / "task.py"
    line = _line_of(models, "    title:")
    annotations = [text for text in result.stdout.splitlines() if text.startswith("::error ")]
    assert annotations == [
        f"::error file=backend/app/models/task.py,line={line},title=schemafuzz FINDING "
        f"tasks.title::{annotations[0].split('::', 2)[2]}"], result.stdout[-3000:]
    message = annotations[0].split("::", 2)[2]
    assert message.startswith("FINDING tasks.title [varchar(200); declared by ")
    assert "fix: in a migration, op.alter_column('tasks', 'title', type_=sa.String(200))" \
        in message
    assert "FINDING tasks.title [varchar(200)" in junit.read_text()
    # Without GITHUB_ACTIONS no workflow command is printed.
    quiet = run_properties(tmp_path, schemafuzz_server, CONSTRAINTS, "-k",
                           "violations and tasks.title:varchar",
                           "--schemafuzz-schema", f"sql:{schema}",
                           env={"GITHUB_ACTIONS": "false"})
    assert "::error" not in quiet.stdout
