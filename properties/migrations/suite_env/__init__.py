"""Alembic script location of the suite's own env.py (a package so that packaging ships it)."""
