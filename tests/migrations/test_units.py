"""Database-free tests of the pieces: catalogue diff, timings file."""

from __future__ import annotations

import dataclasses
import json

import sqlalchemy as sa

from schemafuzz.migrations import diff_live_schemas
from schemafuzz.migrations.timing import record_timings
from schemafuzz.strategies import LiveColumn, LiveConstraint, LiveIndex, LiveSchema


def _catalogue(**changes):
    cat = LiveSchema(
        tables=frozenset({"tasks"}),
        columns={("tasks", "title"): LiveColumn("tasks", "title", "character varying(200)",
                                                False, None)},
        constraints=(LiveConstraint("tasks", "tasks_pkey", "p", "PRIMARY KEY (id)", ("id",)),),
        indexes=(LiveIndex("tasks", "ix_tasks_title",
                           "CREATE INDEX ON public.tasks USING btree (title)", ("title",)),))
    return dataclasses.replace(cat, **changes)


def test_equal_catalogues_have_no_differences():
    assert diff_live_schemas(_catalogue(), _catalogue()) == []


def test_renamed_index_is_a_name_difference_not_a_missing_index():
    renamed = _catalogue(indexes=[LiveIndex("tasks", "tasks_title_idx",
                                        "CREATE INDEX ON public.tasks USING btree (title)",
                                        ("title",))])
    [difference] = diff_live_schemas(_catalogue(), renamed, "models", "migrations")
    assert difference.kind == "index name"
    assert str(difference) == ("tasks.title: index name 'ix_tasks_title' differs: models has "
                               "ix_tasks_title, migrations has tasks_title_idx")


def test_enum_label_order_matters():
    left = _catalogue(enums={"role": ("user", "assistant")})
    right = _catalogue(enums={"role": ("assistant", "user")})
    [difference] = diff_live_schemas(left, right)
    assert difference.kind == "enum type" and difference.name == "role"


def test_timings_are_merged_per_project(tmp_path):
    path = tmp_path / ".schemafuzz" / "migrations.json"
    record_timings({"upgrade head": 0.123456}, tmp_path / "a.ini", path)
    record_timings({"downgrade base": 0.5}, tmp_path / "a.ini", path)
    record_timings({"upgrade head": 1.0}, tmp_path / "b.ini", path)
    data = json.loads(path.read_text())
    assert data[str(tmp_path / "a.ini")] == {"upgrade head": 0.1235, "downgrade base": 0.5}
    assert data[str(tmp_path / "b.ini")] == {"upgrade head": 1.0}


def test_one_difference_seen_by_alembic_and_the_catalogue_is_reported_once():
    from schemafuzz.migrations.diff import Difference
    from schemafuzz.migrations.schema import _same_object

    catalogue = Difference("column type", "notes", "at", None, "timestamp with time zone",
                           "timestamp without time zone")
    alembic_same = Difference("type (alembic)", "notes", "at", None, "DATETIME", "TIMESTAMP")
    alembic_other = Difference("type (alembic)", "notes", "body", None, "TEXT", "VARCHAR")
    assert _same_object(alembic_same, catalogue)
    assert not _same_object(alembic_other, catalogue)


def test_rows_whose_key_changed_type_are_tracked_by_their_unchanged_columns():
    import uuid

    from schemafuzz.migrations.preservation import _by_unchanged_columns, _key_type_changed

    rows = [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}]
    first, second = uuid.uuid4(), uuid.uuid4()
    new = {(first,): [{"id": None, "title": "b"}], (second,): [{"id": None, "title": "a"}]}
    assert _key_type_changed(rows, new, ["id"])
    assert _by_unchanged_columns("after upgrade r3", "item", rows, new, ["id"]) == []
    lost = {(uuid.uuid4(),): [{"id": None, "title": "a"}]}
    [untraceable] = _by_unchanged_columns("after upgrade r3", "item", rows, lost, ["id"])
    assert not untraceable.traceable
    assert untraceable.found == "not traceable (primary key type changed)"
    assert not _key_type_changed(rows, {(5,): [{"id": 5, "title": "a"}]}, ["id"])


def test_alembic_differences_describe_objects_without_reprs():
    from schemafuzz.migrations.schema import _describe_alembic

    metadata = sa.MetaData()
    sa.Table("p", metadata, sa.Column("id", sa.Integer, primary_key=True))
    child = sa.Table("c", metadata, sa.Column("p_id", sa.Integer),
                     sa.ForeignKeyConstraint(["p_id"], ["p.id"], name="fk_c_p"))
    [fk] = child.foreign_key_constraints
    difference = _describe_alembic(("add_fk", fk))
    assert difference.left == "ForeignKeyConstraint fk_c_p (p_id) REFERENCES p (id)"
    assert "object at 0x" not in str(difference)
