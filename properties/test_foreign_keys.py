"""Foreign keys and ON DELETE: deleting a parent through the ORM (``session.delete``) and
through SQL (``DELETE``) must end in the same state, the state the models declare (CASCADE
removes the children, SET NULL nulls them, RESTRICT / NO ACTION refuses), and where the
database does the work the ORM must leave it to the database (no loading or deleting children
one by one, no nulling of FKs before the DELETE).

Catches: ORM cascade without the database's ON DELETE CASCADE; a database cascade with the ORM
nulling FKs first; ``passive_deletes`` missing (N+1 statements); a dropped FK.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from schemafuzz.findings import ADVICE, DRIFT, Finding
from schemafuzz.fixes import on_delete_fix
from schemafuzz.fixtures import Verdict
from schemafuzz.harness import Sandbox, sqlstate_of
from schemafuzz.live_rows import valid_graphs
from schemafuzz.outcomes import Tallies, Tally, attempt, insert_instance, refused_valid_row
from schemafuzz.report import Ledger
from schemafuzz.targets import ForeignKeyTarget

pytestmark = pytest.mark.filterwarnings("ignore::schemafuzz.strategies.SkippedConstraintWarning")

_GONE = "gone"
_PREPARER = postgresql.dialect().identifier_preparer


@dataclass(frozen=True)
class DeleteOutcome:
    """What deleting the parent did: refused (SQLSTATE), and each child's FK afterwards."""

    refused: str | None
    children: tuple[Any, ...]  # per child: "gone" or its FK values after the delete

    def describe(self) -> str:
        if self.refused:
            return f"refused with SQLSTATE {self.refused}"
        gone = sum(state == _GONE for state in self.children)
        nulled = sum(state != _GONE and all(v is None for v in state) for state in self.children)
        kept = len(self.children) - gone - nulled
        return f"parent deleted; children removed: {gone}, FK nulled: {nulled}, kept: {kept}"

    def action(self) -> str:
        """The ON DELETE this outcome shows: NO ACTION (refused), CASCADE, SET NULL, or
        "none" when the children were kept (no foreign key enforced at all)."""
        if self.refused:
            return "NO ACTION"
        if self.children and all(state == _GONE for state in self.children):
            return "CASCADE"
        if self.children and all(state != _GONE and all(v is None for v in state)
                                 for state in self.children):
            return "SET NULL"
        return "none"


def _expected(action: str, n_children: int) -> str:
    if action == "CASCADE":
        return f"parent deleted; children removed: {n_children}, FK nulled: 0, kept: 0"
    if action == "SET NULL":
        return f"parent deleted; children removed: 0, FK nulled: {n_children}, kept: 0"
    return "refused with SQLSTATE 23503"


def _rule(fk: ForeignKeyTarget) -> str:
    return f"{fk.name} ON DELETE {fk.ondelete}"


@pytest.fixture
def fk_tally(fk_target: ForeignKeyTarget, schemafuzz_ledger: Ledger,
             schemafuzz_tallies: Tallies) -> Tally:
    """Declares this FK's ON DELETE rule in the report; its counts become SC-008."""
    schemafuzz_ledger.declare(fk_target.child.__table__.name, ",".join(fk_target.columns),
                            _rule(fk_target), "on_delete", ["metadata", "orm"])
    return schemafuzz_tallies["SC-008"]


def _children_state(schemafuzz_db: Sandbox, fk: ForeignKeyTarget, child_keys: list[tuple[Any, ...]]
                    ) -> tuple[Any, ...]:
    table: sa.Table = fk.child.__table__
    pk = list(table.primary_key.columns)
    fk_columns = [table.c[name] for name in fk.columns]
    states = []
    for key in child_keys:
        row = schemafuzz_db.connection.execute(
            sa.select(*fk_columns).where(*(c == v for c, v in zip(pk, key, strict=True)))
        ).first()
        states.append(_GONE if row is None else tuple(row))
    return tuple(states)


@dataclass
class _StatementLog:
    statements: list[str]

    def touching(self, table: str) -> list[str]:
        """The statements that read or write ``table`` (named as SQL names it: ``"order"``
        and ``"user"`` are quoted)."""
        name = _PREPARER.quote(table)
        needles = (f"FROM {name} ", f"FROM {name}\n", f"UPDATE {name} ", f"INTO {name} ")
        return [s for s in self.statements if any(n in s + " " for n in needles)]


def _delete_via_sql(schemafuzz_db: Sandbox, fk: ForeignKeyTarget, parent_key: tuple[Any, ...],
                    child_keys: list[tuple[Any, ...]]) -> DeleteOutcome:
    parent: sa.Table = fk.parent.__table__
    where = [c == v for c, v in zip(parent.primary_key.columns, parent_key, strict=True)]
    savepoint = schemafuzz_db.connection.begin_nested()
    try:
        outcome = attempt(schemafuzz_db, parent.delete().where(*where))
        return DeleteOutcome(outcome.sqlstate, _children_state(schemafuzz_db, fk, child_keys))
    finally:
        savepoint.rollback()


def _delete_via_orm(schemafuzz_db: Sandbox, fk: ForeignKeyTarget, parent_key: tuple[Any, ...],
                    child_keys: list[tuple[Any, ...]]) -> tuple[DeleteOutcome, _StatementLog]:
    log = _StatementLog([])

    def remember(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        log.statements.append(statement)

    savepoint = schemafuzz_db.connection.begin_nested()
    session = schemafuzz_db.session()
    refused: str | None = None
    try:
        instance = session.get(fk.parent, parent_key if len(parent_key) > 1 else parent_key[0])
        assert instance is not None, "the parent row just inserted is missing"
        event.listen(schemafuzz_db.connection, "before_cursor_execute", remember)
        try:
            session.delete(instance)
            session.flush()
        except DBAPIError as error:
            refused = sqlstate_of(error) or "driver error"
        except SQLAlchemyError as error:  # e.g. "blank-out primary key" while nulling FKs
            refused = f"refused by the ORM ({type(error).__name__}: {error})"
        finally:
            event.remove(schemafuzz_db.connection, "before_cursor_execute", remember)
        # Read while the session's savepoint is still open: closing the session rolls it back.
        return DeleteOutcome(refused, _children_state(schemafuzz_db, fk, child_keys)), log
    finally:
        session.close()
        if savepoint.is_active:
            savepoint.rollback()


def _finding(fk: ForeignKeyTarget, what: str, kind: str = DRIFT) -> Finding:
    return Finding(fk.child.__table__.name, ",".join(fk.columns), _rule(fk),
                   ["metadata", "orm"], what, kind=kind)


def _fail(verdict: Verdict, tally: Tally, fk: ForeignKeyTarget, what: str, fix: str = ""
          ) -> None:
    tally.ok = False
    verdict.conclude(replace(_finding(fk, what), fix=fix))


def _on_delete_fix(fk: ForeignKeyTarget, found: str) -> str:
    """Both fixes of an ON DELETE the database does not do as the models declare."""
    if found == "none":  # no foreign key in the database at all
        return (f"in a migration, op.create_foreign_key({fk.name!r}, "
                f"{fk.child.__table__.name!r}, {fk.parent.__table__.name!r}, "
                f"{list(fk.columns)!r}, {[e.column.name for e in fk.constraint.elements]!r}"
                + (")" if fk.ondelete == "NO ACTION" else f", ondelete={fk.ondelete!r})"))
    return on_delete_fix(fk.child.__table__.name, fk.name, fk.parent.__table__.name,
                         list(fk.columns), [e.column.name for e in fk.constraint.elements],
                         fk.ondelete, found)


@given(data=st.data())
def test_orm_and_sql_deletes_agree_with_the_declared_on_delete(
        schemafuzz_db: Sandbox, fk_target: ForeignKeyTarget, schemafuzz_ledger: Ledger,
        fk_tally: Tally, schemafuzz_verdict: Verdict,
        data: st.DataObject) -> None:
    child_table: sa.Table = fk_target.child.__table__
    parent_table: sa.Table = fk_target.parent.__table__
    # The tables above the parent only have to exist: what a delete of the parent does to
    # its children does not depend on them (lean_ancestors).
    rows = data.draw(valid_graphs(schemafuzz_db, [fk_target.child], min_rows={
        child_table.name: 1, parent_table.name: 1}, lean_ancestors=True), label="rows")
    children: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []  # (child pk, its FK values)
    schemafuzz_verdict.check({type(instance).__table__.name for instance in rows})
    for instance in rows:
        sent, outcome = insert_instance(schemafuzz_db, instance)
        if not outcome.stored:
            refused_valid_row(schemafuzz_verdict, schemafuzz_db, type(instance), outcome, sent,
                              "Model.model_validate accepts this row but PostgreSQL refuses it")
        assert outcome.row is not None
        if type(instance).__table__ is child_table:
            mapping = outcome.row._mapping
            fk_values = tuple(mapping[child_table.c[c]] for c in fk_target.columns)
            if all(v is not None for v in fk_values):
                pk = tuple(mapping[c] for c in child_table.primary_key.columns)
                children.append((pk, fk_values))
    assume(children)
    referenced = [parent_table.c[e.column.name] for e in fk_target.constraint.elements]
    parent_key_values = children[0][1]
    parent_row = schemafuzz_db.connection.execute(
        sa.select(*parent_table.primary_key.columns).where(
            *(c == v for c, v in zip(referenced, parent_key_values, strict=True)))).one()
    parent_key = tuple(parent_row)
    mine = [pk for pk, values in children if values == parent_key_values]
    if fk_target.child is fk_target.parent:
        mine = [pk for pk in mine if pk != parent_key]  # the parent itself is not its child
        assume(mine)

    expected = _expected(fk_target.ondelete, len(mine))
    via_sql = _delete_via_sql(schemafuzz_db, fk_target, parent_key, mine)
    via_orm, log = _delete_via_orm(schemafuzz_db, fk_target, parent_key, mine)
    fk_tally.add("parent deletes via SQL and ORM")
    fk_tally.add("children", len(mine))
    if via_sql.describe() != expected:
        _fail(schemafuzz_verdict, fk_tally, fk_target,
              f"the models declare ON DELETE {fk_target.ondelete}, so deleting a "
              f"{parent_table.name} row should give '{expected}', but SQL DELETE gave "
              f"'{via_sql.describe()}'", fix=_on_delete_fix(fk_target, via_sql.action()))
    if via_orm.describe() != via_sql.describe():
        _fail(schemafuzz_verdict, fk_tally, fk_target,
              f"session.delete() gave '{via_orm.describe()}' but SQL DELETE gave "
              f"'{via_sql.describe()}' (the ORM relationship's cascade disagrees with the "
              "database's ON DELETE)")
    own_work = log.touching(child_table.name)
    if (fk_target.ondelete in ("CASCADE", "SET NULL") and fk_target.child is not fk_target.parent
            and own_work):
        # Same end state through both: the ORM's own statements are an efficiency hint.
        schemafuzz_verdict.conclude(_finding(
            fk_target, f"the database does ON DELETE {fk_target.ondelete}, and both end in the "
            f"same state, yet session.delete() also sends statements on {child_table.name} "
            f"itself (first: {' '.join(own_work[0].split())[:120]}); set passive_deletes=True "
            "on the relationship so the ORM leaves it to the database", ADVICE))
    fk_tally.add("agreed")
    schemafuzz_ledger.count(child_table.name, ",".join(fk_target.columns), _rule(fk_target),
                          valid=1)
