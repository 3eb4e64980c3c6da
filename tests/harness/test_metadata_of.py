"""The MetaData of the models under test: the module's ``metadata``, else the one its table
models share (a registry of their own, with no module-level ``metadata``), never an empty
``SQLModel.metadata`` that would build an empty schema."""

from __future__ import annotations

import types

import pytest

from schemafuzz.configuration import ConfigurationError
from schemafuzz.subject import metadata_of
from tests.apps.catalog import models as catalog
from tests.apps.todo import models as todo


def test_models_on_their_own_registry_bring_their_metadata() -> None:
    module = types.ModuleType("shopapp.models")
    module.User, module.Task = todo.User, todo.Task  # type: ignore[attr-defined]
    assert metadata_of(module) is todo.metadata
    assert {"user", "task"} <= set(metadata_of(module).tables)


def test_models_on_several_metadata_must_name_theirs() -> None:
    module = types.ModuleType("mixed.models")
    module.User, module.Product = todo.User, catalog.Product  # type: ignore[attr-defined]
    with pytest.raises(ConfigurationError, match=r"2 different MetaData: set metadata = "):
        metadata_of(module)
    module.metadata = todo.metadata  # type: ignore[attr-defined]
    assert metadata_of(module) is todo.metadata
