"""Per-test and per-example isolation on one connection: an outer transaction per test, a
SAVEPOINT per Hypothesis example, both rolled back so nothing a test writes survives it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .diagnostics import sqlstate_of
from .recorder import StatementRecorder

__all__ = ["Sandbox", "sqlstate_of"]


class Sandbox:
    """A connection inside a transaction that is rolled back when the test ends.

    ``connection`` is for raw SQL; ``session()`` gives ORM sessions on the same connection
    whose ``commit()`` only releases a savepoint. Remember that ``now()`` is the start time of
    the outer transaction and so constant for the whole test; ``clock_timestamp()`` moves.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.connection: sa.Connection = engine.connect()
        self._outer = self.connection.begin()
        self._sessions: list[Session] = []
        self.recorder = StatementRecorder(self.connection)

    def __repr__(self) -> str:
        # Hypothesis prints a failing test's arguments, fixtures included: name the database.
        return f"Sandbox(database={self.connection.engine.url.database!r})"

    def session(self) -> Session:
        """Return a new ORM session bound to this sandbox's connection."""
        session = Session(bind=self.connection, join_transaction_mode="create_savepoint")
        self._sessions.append(session)
        return session

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> sa.CursorResult[Any]:
        """Run one SQL statement (``:name`` parameters) and return its result.

        Raises the driver's error wrapped by SQLAlchemy (``sqlalchemy.exc.DBAPIError``).
        """
        return self.connection.execute(sa.text(sql), dict(params or {}))

    def try_execute(self, sql: str, params: Mapping[str, Any] | None = None) -> str | None:
        """Run one statement inside its own savepoint; return None when it succeeded, else the
        SQLSTATE it failed with (its effects undone, the sandbox still usable).

        Raises DBAPIError only for failures that carry no SQLSTATE (a lost connection).
        """
        savepoint = self.connection.begin_nested()
        try:
            self.connection.execute(sa.text(sql), dict(params or {}))
        except DBAPIError as error:
            savepoint.rollback()
            state = sqlstate_of(error)
            if state is None:
                raise
            return state
        savepoint.commit()
        return None

    def _close_sessions(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    @contextmanager
    def example(self) -> Iterator[None]:
        """Run the body inside a SAVEPOINT that is rolled back afterwards, whatever happens."""
        savepoint = self.connection.begin_nested()
        self.recorder.start_example()
        try:
            yield
        except BaseException:
            self.recorder.mark_failed()
            raise
        finally:
            self._close_sessions()
            if savepoint.is_active:
                savepoint.rollback()

    def close(self) -> None:
        """Roll back everything the test did and release the connection."""
        self._close_sessions()
        self.recorder.close()
        try:
            if self._outer.is_active:
                self._outer.rollback()
        finally:
            self.connection.close()
