"""A healthy throwaway project passes every migration check, and the checks measure it."""

from __future__ import annotations

from schemafuzz.migrations import (
    check_data_preservation,
    check_each_revision_round_trip,
    check_model_definitions_match_ddl,
    check_single_head,
    check_up_down_consistency,
    check_upgrade_from_empty,
    diff_live_schemas,
)
from schemafuzz.strategies import LiveSchema, read_live_schema
from tests.migrations.project import models_metadata


def test_every_check_passes_on_a_good_history(project_factory, make_runner, schema_differences):
    project = project_factory()
    runner = make_runner(project)
    check_single_head(runner)
    assert runner.revisions() == ["r1_users_tasks", "r2_notes"]
    seconds = check_upgrade_from_empty(runner)
    assert 0 < seconds < 30
    assert runner.timings["upgrade head"] == round(seconds, 4)
    assert schema_differences(runner) == []
    runner.downgrade("base")
    durations = check_each_revision_round_trip(runner)
    assert set(durations) == {"r1_users_tasks", "r2_notes"}
    runner.downgrade("base")
    with runner.connect() as connection:
        assert diff_live_schemas(LiveSchema(), read_live_schema(connection)) == []


def test_pytest_alembic_builtins_pass_on_a_good_history(project_factory, make_runner):
    project = project_factory()
    check_up_down_consistency(make_runner(project))
    check_model_definitions_match_ddl(make_runner(project), models_metadata())


def test_data_preservation_holds_on_a_good_history(project_factory, make_runner):
    runner = make_runner(project_factory())
    first = check_data_preservation(runner, "r1_users_tasks", max_examples=3)
    assert first.tables == ["users", "tasks"]
    # Boundary graph: 3 users, 25 tasks on the first user; then 3 generated graphs.
    assert first.examples == 4
    assert first.rows >= 28
    assert first.notes == []
    runner.downgrade("base")
    second = check_data_preservation(runner, "r2_notes", max_examples=3)
    assert second.tables == ["users", "tasks", "notes"]
    assert second.rows >= 28 + 25
    # The database is left at the revision, empty.
    assert runner.current() == "r2_notes"
