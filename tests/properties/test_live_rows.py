"""live_rows: the properties' strategies over the schema under test, kept per sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from schemafuzz.harness import Sandbox
from schemafuzz.live_rows import live_violations, valid_graphs
from schemafuzz.strategies import Kind, Layer, Violation, constraints


class _Base(SQLModel, registry=registry()):
    pass


class Part(_Base, table=True):
    __tablename__ = "sf_part"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(min_length=1, max_length=10)


@pytest.fixture
def sandbox(schemafuzz_fresh_db_url: str) -> Iterator[Sandbox]:
    """A sandbox on a database whose sf_part.code has a CHECK the model lacks (length >= 3)."""
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        _Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE sf_part ADD CONSTRAINT ck_part_code_length "
                                       "CHECK (char_length(code) >= 3)"))
        box = Sandbox(engine)
        try:
            yield box
        finally:
            box.close()
    finally:
        engine.dispose()


def test_valid_rows_keep_a_rule_only_the_database_declares(sandbox: Sandbox) -> None:
    strategy = valid_graphs(sandbox, [Part], min_rows={"sf_part": 1})
    assert valid_graphs(sandbox, [Part], min_rows={"sf_part": 1}) is strategy  # built once
    codes: list[str] = []

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(strategy)
    def draw(rows: list[Part]) -> None:
        codes.extend(row.code for row in rows)

    draw()
    assert codes and min(map(len, codes)) >= 3  # the model alone allows 1


def test_violations_carry_the_live_layers_and_keep_the_database_rule(sandbox: Sandbox) -> None:
    too_long = next(c for c in constraints(Part) if c.kind == Kind.MAX_LENGTH)
    seen: list[Violation] = []

    @settings(max_examples=20, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(live_violations(sandbox, Part, too_long))
    def draw(violation: Violation) -> None:
        seen.append(violation)

    draw()
    assert seen and all(v.rule == too_long.rule for v in seen)
    assert all(v.constraint is not None and Layer.DATABASE in v.constraint.layers for v in seen)


def test_a_model_rule_the_database_makes_tighter_is_skipped_saying_so(sandbox: Sandbox) -> None:
    too_short = next(c for c in constraints(Part) if c.kind == Kind.MIN_LENGTH)
    with pytest.raises(pytest.skip.Exception, match=r"sf_part\.code Field\(min_length=1\): no "
                       r"value breaks it alone in the schema under test"):
        live_violations(sandbox, Part, too_short)


def test_a_sandbox_builds_its_strategies_from_one_catalogue_read(sandbox: Sandbox) -> None:
    """Inside reading_once() (where live_rows builds), the catalogue of a connection is read
    once and returned again; outside it, every call reads it afresh."""
    from schemafuzz.strategies import read_live_schema
    from schemafuzz.strategies._live_schema import reading_once

    statements: list[str] = []
    sa.event.listen(sandbox.connection, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    with reading_once():
        first = read_live_schema(sandbox.connection)
        read = len(statements)
        assert read > 0
        assert read_live_schema(sandbox.connection) is first and len(statements) == read
    assert read_live_schema(sandbox.connection) is not first and len(statements) == 2 * read


def test_the_catalogue_is_read_once_per_database_not_per_test(
        schemafuzz_fresh_db_url: str) -> None:
    """A sandbox rolls back all its test does, so the next test's strategies are built from
    the catalogue the first one read."""
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    try:
        _Base.metadata.create_all(engine)
        reads: list[int] = []
        for _ in range(2):  # two tests, one sandbox each
            box = Sandbox(engine)
            statements: list[str] = []
            sa.event.listen(box.connection, "before_cursor_execute",
                            lambda *args, seen=statements: seen.append(args[2]))
            try:
                valid_graphs(box, [Part], min_rows={"sf_part": 1})
            finally:
                box.close()
            reads.append(len(statements))  # building runs no SQL but the catalogue's
        assert reads[0] > 0 and reads[1] == 0, reads
    finally:
        engine.dispose()
