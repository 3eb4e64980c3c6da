"""Engine factory and the unit-of-work session context manager.

``create_db_engine(url)`` is the one place engines are made (pool_size=5, max_overflow=10,
pool_pre_ping=True, pool_recycle=3600, session time zone UTC); pass an explicit URL to point it
anywhere (tests do), or omit it to use ``DATABASE_URL``.  ``get_session()`` commits on success,
rolls back on error and always closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlmodel import Session

from .config import get_settings, parse_database_url

__all__ = ["POOL_OPTIONS", "create_db_engine", "get_engine", "get_session"]

#: Pool settings (design §2): 5 kept, 10 more on demand, connections checked before use and
#: replaced hourly (managed servers such as Neon close idle connections).
POOL_OPTIONS: dict[str, Any] = {
    "pool_size": 5,
    "max_overflow": 10,
    "pool_pre_ping": True,
    "pool_recycle": 3600,
}


def _utc_options(url: URL) -> str:
    """Return libpq ``options`` for ``url`` with the session time zone forced to UTC.

    UTC makes ``timestamptz`` values read back in UTC (the models normalise to UTC) and makes
    a naive timestamp in raw SQL mean UTC, as it does in the models.
    """
    existing = url.query.get("options", "")
    if isinstance(existing, tuple):
        existing = " ".join(existing)
    return f"{existing} -c timezone=UTC".strip()


def create_db_engine(url: str | URL | None = None, **engine_options: Any) -> Engine:
    """Return a new ``Engine`` for ``url`` (default: the checked ``DATABASE_URL``).

    ``engine_options`` override :data:`POOL_OPTIONS` or add other ``create_engine`` arguments.
    Raises :class:`~backend.app.config.DatabaseConfigError` for a missing or unsafe URL
    (e.g. a remote host without ``sslmode=require``).
    """
    checked = (
        get_settings().url if url is None else parse_database_url(url, variable="The engine URL")
    )
    options = {**POOL_OPTIONS, **engine_options}
    connect_args = {"options": _utc_options(checked), **options.pop("connect_args", {})}
    return create_engine(checked, connect_args=connect_args, **options)


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    """Return the process-wide engine for ``DATABASE_URL``, created on first use.

    Raises :class:`~backend.app.config.DatabaseConfigError` when ``DATABASE_URL`` is unusable.
    """
    return create_db_engine()


@contextmanager
def get_session(engine: Engine | None = None) -> Iterator[Session]:
    """Yield a ``Session`` on ``engine`` (default :func:`get_engine`); a unit of work.

    Commits when the block finishes, rolls back and re-raises when it raises, and closes the
    session in every case.
    """
    session = Session(engine if engine is not None else get_engine())
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
