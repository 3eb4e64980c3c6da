"""The project's own fixtures (most projects have a tests/conftest.py)."""

import pytest


@pytest.fixture
def db() -> str:
    return "the project's own db fixture"
