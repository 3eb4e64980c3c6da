"""Strategies over the schema under test: the constraints of the models, their metadata and
the live catalogue of the database the sandbox is connected to, so a rule only the database
declares (a CHECK a migration added, a NOT NULL or a unique constraint only in SQL) is kept by
every row a property draws as valid, and is reported once, by the database-only property.

The strategies are built on a test's first example and kept while its sandbox lives, because
their CHECK filter runs on the sandbox's connection; the catalogue they are built from is read
once per run and database.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import strategies as st

from schemafuzz.harness import Sandbox
from schemafuzz.strategies import Constraint, Violation, constraints, graphs, valid, violations
from schemafuzz.strategies._live_schema import reading_once

__all__ = ["live_violations", "valid_graphs", "valid_instances"]

_BUILT: weakref.WeakKeyDictionary[Sandbox, dict[Hashable, st.SearchStrategy[Any]]] = (
    weakref.WeakKeyDictionary())
# Per engine (one database): its catalogue and the table specs built from it, read on the first
# test's first example and kept for the run. A sandbox rolls back all a test does, so the
# schema under test is the same for every test; reading it in every test cost 40 ms per test
# on the 4-table reference schema, and grew with the schema (profiled).
_CATALOGUES: weakref.WeakKeyDictionary[sa.Engine, dict[Hashable, Any]] = (
    weakref.WeakKeyDictionary())


def _once(sandbox: Sandbox, key: Hashable, build: Callable[[], st.SearchStrategy[Any]]
          ) -> st.SearchStrategy[Any]:
    """The strategy ``build()`` returns, built on the first call per sandbox and ``key``."""
    built = _BUILT.setdefault(sandbox, {})
    if key not in built:
        # Building changes no schema object, nor does any test: see _CATALOGUES.
        with reading_once(_CATALOGUES.setdefault(sandbox.connection.engine, {})):
            built[key] = build()
    return built[key]


def valid_graphs(sandbox: Sandbox, models: Iterable[type[Any]], *,
                 min_rows: Mapping[str, int], max_rows: int = 4, lean_ancestors: bool = False
                 ) -> st.SearchStrategy[list[Any]]:
    """Return ``graphs(models, min_rows=..., max_rows=..., lean_ancestors=...,
    connection=sandbox.connection)``, built once per sandbox: FK-consistent unsaved instances
    keeping every rule of the three layers. Raises what ``graphs()`` raises
    (``UnsupportedColumnError``, an FK cycle)."""
    models = tuple(models)
    key = ("graphs", models, tuple(sorted(min_rows.items())), max_rows, lean_ancestors)
    return _once(sandbox, key,
                 lambda: graphs(models, min_rows=dict(min_rows), max_rows=max_rows,
                                connection=sandbox.connection, lean_ancestors=lean_ancestors))


def valid_instances(sandbox: Sandbox, model: type[Any]) -> st.SearchStrategy[Any]:
    """Return ``valid(model, connection=sandbox.connection)``, built once per sandbox: unsaved
    instances keeping every rule of the three layers, FK columns NULL where allowed, else a
    placeholder the caller replaces with a parent's key. Raises what ``valid()`` raises."""
    return _once(sandbox, ("valid", model),
                 lambda: valid(model, connection=sandbox.connection))


def _refused_by_database(violation: Violation) -> bool:
    return violation.sqlstate is not None


def live_violations(sandbox: Sandbox, model: type[Any], constraint: Constraint, *,
                    database_refuses: bool = False) -> st.SearchStrategy[Violation]:
    """Return the violations of ``constraint`` (one of ``constraints(model)``, read without
    the database) that keep every other rule of the three layers, built once per sandbox.

    The same rule in the live catalogue carries the database among its layers, so it is
    found by table, columns, kind and name. Where the schema under test leaves no value that
    breaks it alone (a tighter rule only the database declares shadows it; that rule is the
    database-only property's), the test is skipped saying so. Raises ValueError as
    ``violations()`` does when the models cannot break ``constraint`` alone. With
    ``database_refuses``, only the violations PostgreSQL must refuse (those with a SQLSTATE:
    not an over-long value whose excess varchar(n) truncates), filtered once here rather than
    by a new strategy in every example (Hypothesis validates each new one)."""
    if database_refuses:
        return _once(sandbox, ("refused violations", model, constraint),
                     lambda: live_violations(sandbox, model, constraint).filter(
                         _refused_by_database))
    return _once(sandbox, ("violations", model, constraint),
                 lambda: _live_or_model_violations(sandbox, model, constraint))


def _live_or_model_violations(sandbox: Sandbox, model: type[Any], constraint: Constraint
                              ) -> st.SearchStrategy[Violation]:
    identity = (constraint.table, constraint.columns, constraint.kind, constraint.rule)
    live = [c for c in constraints(model, sandbox.connection)
            if (c.table, c.columns, c.kind, c.rule) == identity]
    if len(live) != 1 or not live[0].generated:
        return violations(model, constraint=constraint)  # the models' own, as collected
    try:
        return violations(model, connection=sandbox.connection, constraint=live[0])
    except ValueError:
        # Drawn from the models alone, its setup rows would break the tighter rule and be
        # reported as refused valid rows: the same disagreement a second time.
        pytest.skip(f"{constraint.table}.{','.join(constraint.columns)} {constraint.rule}: no "
                    "value breaks it alone in the schema under test (a tighter rule there "
                    "refuses every value that would, or the database generates the column)")
