"""Broken variants of the reference schema, built from a schema-only dump of the migrated
reference database with one ALTER appended, and a way to run the properties against them.

The helpers live in ``bench/_schema_variants.py``, shared with the mutation benchmark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bench import _schema_variants as variants
from bench._schema_variants import REPO, broken_dump, copy_models_with, run_properties
from schemafuzz.harness import DatabaseFactory

__all__ = ["REPO", "broken_dump", "copy_models_with", "run_properties"]


@pytest.fixture(scope="session")
def reference_dump(schemafuzz_server: DatabaseFactory,
                   schemafuzz_metadata: object) -> Iterator[str]:
    """``pg_dump --schema-only`` of a database migrated to head with the reference backend."""
    assert isinstance(schemafuzz_metadata, sa.MetaData)
    yield variants.reference_dump(schemafuzz_server, schemafuzz_metadata)
