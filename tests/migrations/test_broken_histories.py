"""Each broken history is caught, with a message naming the revision and the object."""

from __future__ import annotations

import pytest

from schemafuzz.migrations import (
    DataLossError,
    DowngradeTraceError,
    MigrationError,
    MultipleHeadsError,
    SchemaMismatchError,
    attribute_differences,
    check_data_preservation,
    check_each_revision_round_trip,
    check_single_head,
    check_upgrade_from_empty,
)
from tests.migrations.project import REV1, REV2

REV3_BRANCH = '''
"""a second branch off r1"""
import sqlalchemy as sa
from alembic import op

revision = "r3_branch"
down_revision = "r1_users_tasks"


def upgrade():
    op.add_column("users", sa.Column("nickname", sa.String(50)))


def downgrade():
    op.drop_column("users", "nickname")
'''


def test_downgrade_that_forgets_the_enum_type(project_factory, make_runner):
    project = project_factory(replace={"r2_notes": ("notekind.drop(op.get_bind())", "pass")})
    runner = make_runner(project)
    with pytest.raises(DowngradeTraceError) as caught:
        check_each_revision_round_trip(runner)
    message = str(caught.value)
    assert "r2_notes" in message
    assert "enum type 'notekind'" in message
    assert "only in after its downgrade" in message
    assert caught.value.revision.startswith("r2_notes")


def test_downgrade_that_forgets_the_trigger_function(project_factory, make_runner):
    project = project_factory(
        replace={"r2_notes": ('op.execute("DROP FUNCTION set_updated_at()")', "pass")}
    )
    with pytest.raises(DowngradeTraceError, match=r"r2_notes.*\n.*function 'set_updated_at\(\)'"):
        check_each_revision_round_trip(make_runner(project))


def test_fk_without_the_models_on_delete_cascade(project_factory, make_runner,
                                                 schema_differences):
    project = project_factory(replace={"r1_users_tasks": (
        'sa.ForeignKey("users.id", ondelete="CASCADE")', 'sa.ForeignKey("users.id")')})
    runner = make_runner(project)
    differences = schema_differences(runner)
    fk = [d for d in differences if d.kind == "foreign key"]
    assert len(fk) == 1, differences
    assert (fk[0].table, fk[0].column) == ("tasks", "user_id")
    assert "ON DELETE CASCADE" in (fk[0].left or "")
    assert "ON DELETE" not in (fk[0].right or "")
    error = SchemaMismatchError(differences, attribute_differences(runner, differences))
    assert "tasks.user_id: foreign key" in str(error)
    assert "[revision r1_users_tasks (users and tasks)]" in str(error)


def test_description_built_as_text_where_the_model_says_1000(project_factory, make_runner,
                                                            schema_differences):
    project = project_factory(replace={"r1_users_tasks": (
        'sa.Column("description", sa.String(1000)', 'sa.Column("description", sa.Text()')})
    runner = make_runner(project)
    differences = schema_differences(runner)
    catalogue = [d for d in differences if d.kind == "column type"]
    assert [(d.table, d.column, d.left, d.right) for d in catalogue] == [
        ("tasks", "description", "character varying(1000)", "text")
    ]
    # Alembic's own comparison sees it too (compare_type): one difference, reported once.
    assert not any(d.kind == "type (alembic)" and d.where == "tasks.description"
                   for d in differences)
    message = str(SchemaMismatchError(differences, attribute_differences(runner, differences)))
    assert ("tasks.description: column type differs: models has character varying(1000), "
            "migrations has text [revision r1_users_tasks (users and tasks)]") in message


def test_downgrade_that_drops_and_recreates_a_column(project_factory, make_runner):
    recreate = (
        'op.drop_index("ix_tasks_user_id_completed", table_name="tasks")',
        'op.drop_index("ix_tasks_user_id_completed", table_name="tasks")\n'
        '    op.drop_column("tasks", "description")\n'
        '    op.add_column("tasks", sa.Column("description", sa.String(1000), nullable=True))',
    )
    project = project_factory(replace={"r2_notes": recreate})
    runner = make_runner(project)
    # The schema round trip is clean: only the data is lost.
    check_each_revision_round_trip(runner)
    runner.downgrade("base")
    with pytest.raises(DataLossError) as caught:
        check_data_preservation(runner, "r1_users_tasks", max_examples=0)
    message = str(caught.value)
    assert "rows generated at revision r1_users_tasks" in message
    assert "[after downgrade r2_notes (notes with a kind enum" in message
    assert "tasks.description row id=" in message
    assert all(m.column == "description" for m in caught.value.mismatches)


def test_two_heads(project_factory, make_runner):
    project = project_factory(
        revisions={"r1_users_tasks": REV1, "r2_notes": REV2, "r3_branch": REV3_BRANCH}
    )
    runner = make_runner(project)
    with pytest.raises(MultipleHeadsError) as caught:
        check_single_head(runner)
    message = str(caught.value)
    assert "found 2" in message
    assert "r2_notes (down_revision 'r1_users_tasks'" in message
    assert "r3_branch (down_revision 'r1_users_tasks'" in message
    # Every stepwise check refuses a branched history with the same message.
    with pytest.raises(MultipleHeadsError):
        check_upgrade_from_empty(runner)


def test_base_revision_referencing_a_table_no_revision_creates(project_factory, make_runner):
    users = REV1[REV1.index("    op.create_table(\n        \"users\""):REV1.index(
        "    op.create_table(\n        \"tasks\"")]
    project = project_factory(replace={"r1_users_tasks": (users, "")})
    with pytest.raises(MigrationError) as caught:
        check_upgrade_from_empty(make_runner(project))
    message = str(caught.value)
    assert message.startswith("upgrade of revision r1_users_tasks (users and tasks) failed")
    assert 'relation "users" does not exist' in message
