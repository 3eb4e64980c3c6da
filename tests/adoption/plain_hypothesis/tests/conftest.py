"""Most projects have a tests/conftest.py; pytest-alembic, which comes with schemafuzz, binds a
collector to it in every run (the suite drops it unless --test-alembic asks for it)."""
