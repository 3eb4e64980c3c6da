"""Fixtures: one database per model set, built with create_all on the suite's server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, settings

from backend.app import models as backend_models
from schemafuzz.strategies import _records

from . import models_enums, models_numeric, models_pinned

# Default per-test budget; raise with SCHEMAFUZZ_PROFILE / --schemafuzz-profile for depth.
FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.large_base_example, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])



@contextmanager
def recorded_rejections() -> Iterator[list[str]]:
    """While open, every example the graph drawer rejects (its ``assume``) is recorded, then
    rejected; yields the list of records."""
    rejected: list[str] = []

    def counted(condition: object) -> bool:
        if not condition:
            rejected.append("assume")
        return assume(condition)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_records, "assume", counted)
        yield rejected


def examples(n: int) -> settings:
    """FAST with `n` examples, or the active profile's max_examples if larger (nightly)."""
    active = settings.default
    deeper = active.max_examples if active is not None else 0
    return settings(FAST, max_examples=max(n, deeper))


MODEL_SETS: dict[str, tuple[ModuleType, list[Any]]] = {
    "numeric": (models_numeric, list(models_numeric.MODELS)),
    "enums": (models_enums, list(models_enums.MODELS)),
    "pinned": (models_pinned, list(models_pinned.MODELS)),
    "backend": (backend_models, [backend_models.User, backend_models.Task,
                                 backend_models.Conversation, backend_models.Message]),
}
ALL_MODELS = [(name, m) for name, (_, models) in MODEL_SETS.items() for m in models]


@pytest.fixture(scope="session")
def engines(schemafuzz_server: Any) -> Iterator[dict[str, sa.Engine]]:
    """An engine per model set, on its own database with the set's schema created."""
    made: dict[str, tuple[sa.Engine, Any]] = {}
    try:
        for name, (module, _) in MODEL_SETS.items():
            url = schemafuzz_server.create_database()
            engine = sa.create_engine(url)
            module.metadata.create_all(engine)
            made[name] = (engine, url)
        yield {name: engine for name, (engine, _) in made.items()}
    finally:
        for engine, url in made.values():
            engine.dispose()
            schemafuzz_server.drop_database(url)


@pytest.fixture
def conn_for(engines: dict[str, sa.Engine]) -> Iterator[Any]:
    """`conn_for(set_name)`: a connection inside a transaction rolled back after the test."""
    opened: list[tuple[sa.Connection, sa.RootTransaction]] = []

    def get(name: str) -> sa.Connection:
        connection = engines[name].connect()
        opened.append((connection, connection.begin()))
        return connection

    yield get
    for connection, trans in opened:
        trans.rollback()
        connection.close()
