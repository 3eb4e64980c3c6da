"""constraints(): names and layers from Table and live catalogue; CHECK parsing; errors."""

from __future__ import annotations

import enum

import pytest
import sqlalchemy as sa
from hypothesis import given
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from schemafuzz import strategies as S
from schemafuzz.strategies import Kind, Layer
from schemafuzz.strategies._check_expressions import UnrecognisedCheck, hints, parse, passes

from .conftest import examples


@pytest.mark.parametrize(("sql", "row", "ok"), [
    ("CHECK ((char_length((title)::text) <= 200))", {"title": "a" * 200}, True),
    ("CHECK ((char_length((title)::text) <= 200))", {"title": "😀" * 201}, False),
    ("CHECK ((btrim((title)::text) <> ''::text))", {"title": " \t"}, True),  # spaces only
    ("CHECK ((btrim((title)::text) <> ''::text))", {"title": "   "}, False),
    ("CHECK (((quantity >= 0) AND (quantity <= 10000)))", {"quantity": -1}, False),
    ("CHECK ((quantity >= '-5'::integer))", {"quantity": -5}, True),
    ("CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])"
     "::text[])))", {"status": "c"}, False),
    ("CHECK ((updated_at >= created_at))", {"updated_at": 1, "created_at": 2}, False),
    ("x BETWEEN 1 AND 5", {"x": None}, True),  # NULL passes a CHECK
])
def test_check_forms_pg_get_constraintdef_prints(sql, row, ok):
    assert passes(parse(sql), row) is ok


def test_unrecognised_checks_are_refused():
    with pytest.raises(UnrecognisedCheck):
        parse("CHECK (x ~ '\\d+')")  # locale-dependent class escape
    with pytest.raises(UnrecognisedCheck):
        parse("CHECK (my_function(x))")
    assert hints(parse("char_length(a) >= 2 AND btrim(a) <> ''")).min_length == {"a": 2}


def test_live_catalogue_adds_database_layer_and_names(engines):
    from backend.app.models import Message, Task

    with engines["backend"].connect() as connection:
        live = {c.rule: c for c in S.constraints(Task, connection)}
        static = {c.rule: c for c in S.constraints(Task)}
        role = next(c for c in S.constraints(Message, connection) if c.kind == Kind.ENUM)
    # Names predicted from the naming convention are those PostgreSQL reports.
    for rule in ("pk_tasks", "fk_tasks_user_id_users", "ck_tasks_title_not_blank",
                 "ck_tasks_updated_at_gte_created_at"):
        assert rule in static and rule in live
        assert Layer.DATABASE in live[rule].layers and Layer.DATABASE not in static[rule].layers
    assert live["fk_tasks_user_id_users"].params["ondelete"] == "CASCADE"
    assert role.params["labels"] == ("user", "assistant") and role.params["stores"] == "values"
    assert role.layers == {Layer.MODEL, Layer.METADATA, Layer.DATABASE}


def test_enum_storing_names_is_reported():
    from .models_enums import Ticket

    by_rule = {c.rule: c for c in S.constraints(Ticket) if c.kind == Kind.ENUM}
    assert by_rule["priority"].params["labels"] == ("LOW", "HIGH", "URGENT")
    assert by_rule["priority"].params["stores"] == "names"
    assert by_rule["ticket_kind"].params["stores"] == "values"
    assert by_rule["ticket_status"].sqlstate == "23514"  # non-native enum with a CHECK


class _Odd(SQLModel, registry=registry()):
    pass


class Odd(_Odd, table=True):
    __tablename__ = "sf_odd"
    __table_args__ = (sa.CheckConstraint("md5(code) <> ''", name="ck_odd_md5"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=5)
    tags: list[list[str]] = Field(sa_type=sa.ARRAY(sa.String, dimensions=2))


def test_unsupported_column_and_check_are_explicit():
    cats = {c.rule: c for c in S.constraints(Odd)}
    assert cats["ck_odd_md5"].generated is False and "unrecognised" in cats["ck_odd_md5"].note
    unsupported = [c for c in cats.values() if c.kind == Kind.UNSUPPORTED]
    assert unsupported and unsupported[0].columns == ("tags",)
    with pytest.raises(S.UnsupportedColumnError, match=r"sf_odd\.tags"):
        S.valid(Odd)


def test_unrecognised_check_is_filtered_by_the_database(schemafuzz_fresh_db_url):
    reg = registry()

    class B(SQLModel, registry=reg):
        pass

    class Coded(B, table=True):
        __tablename__ = "sf_coded"
        __table_args__ = (sa.CheckConstraint("md5(code) <> md5('a')", name="ck_coded_md5"),)
        id: int | None = Field(default=None, primary_key=True)
        code: str = Field(max_length=3)

    with pytest.raises(S.UnsupportedConstraintError, match="ck_coded_md5"):
        S.valid(Coded)
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        B.metadata.create_all(engine)
        with engine.connect() as connection:

            @examples(40)
            @given(S.valid(Coded, connection=connection))
            def check(row: Coded) -> None:
                assert row.code != "a"

            check()
    finally:
        engine.dispose()


class _Level(SQLModel, registry=registry()):
    pass


class Rank(enum.Enum):
    LOW = "low"
    HIGH = "high"


class Ranked(_Level, table=True):
    __tablename__ = "sf_ranked"
    id: int | None = Field(default=None, primary_key=True)
    rank: Rank = Field(sa_type=sa.Enum(Rank, name="sf_rank"))


@pytest.mark.parametrize("live_labels", [("LOW",), ("low", "high")])
def test_live_enum_labels_do_not_narrow_what_is_drawn(schemafuzz_fresh_db_url, live_labels):
    """SQLAlchemy sends the members' names; a database type that lacks one (a dropped label)
    or spells them all differently (the values) must still get every name, so the drift is
    refused where a valid row carries it, not hidden by drawing only what the database has."""
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        with engine.begin() as connection:
            labels = ", ".join(f"'{label}'" for label in live_labels)
            connection.execute(sa.text(f"CREATE TYPE sf_rank AS ENUM ({labels})"))
            _Level.metadata.create_all(connection)  # the type exists: only the table is made
        with engine.connect() as connection:
            [rule] = [c for c in S.constraints(Ranked, connection) if c.kind == Kind.ENUM]
            assert Layer.DATABASE in rule.layers and "differ from metadata" in rule.note
            drawn: set[Rank] = set()

            @examples(40)
            @given(S.valid(Ranked, connection=connection))
            def draw(row: Ranked) -> None:
                drawn.add(row.rank)

            draw()
        assert drawn == {Rank.LOW, Rank.HIGH}
    finally:
        engine.dispose()
