"""What PostgreSQL said about a refused statement, read from a (wrapped) driver error: the
one place the suite looks at psycopg2's ``pgcode`` and ``diag``."""

from __future__ import annotations

__all__ = ["diagnostics_of", "sqlstate_of"]


def _driver_error(error: BaseException) -> BaseException:
    return getattr(error, "orig", None) or error


def sqlstate_of(error: BaseException) -> str | None:
    """Return the PostgreSQL SQLSTATE carried by a (wrapped) driver error, or None."""
    code = getattr(_driver_error(error), "pgcode", None)
    return str(code) if code else None


def diagnostics_of(error: BaseException) -> tuple[str | None, str | None]:
    """Return the (constraint name, column name) PostgreSQL reported with the error; either
    is None when the error names none."""
    diag = getattr(_driver_error(error), "diag", None)
    return getattr(diag, "constraint_name", None), getattr(diag, "column_name", None)
