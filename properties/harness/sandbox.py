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
        self._example: sa.NestedTransaction | None = None  # the savepoint of the running one
        # Set when a statement run without a savepoint of its own as the example's last one
        # was refused: the transaction is failed until the example ends.
        self._ended_by: object | None = None
        sa.event.listen(self.connection, "before_cursor_execute", self._refuse_after_end)

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
        self._example = self.connection.begin_nested()
        self.recorder.start_example()
        try:
            yield
        except BaseException:
            self.recorder.mark_failed()
            raise
        finally:
            savepoint, self._example, self._ended_by = self._example, None, None
            self._close_sessions()
            if savepoint.is_active:
                savepoint.rollback()

    def rewind(self) -> None:
        """Roll the running example back to its start and begin it again, so that the
        connection is usable after a statement PostgreSQL refused outside a savepoint of its
        own. Raises RuntimeError outside :meth:`example`."""
        if self._example is None:
            raise RuntimeError("Sandbox.rewind() outside an example")
        self._ended_by = None
        if self._example.is_active:
            self._example.rollback()
        self._example = self.connection.begin_nested()

    def end_example_with_refusal(self, statement: object) -> None:
        """Note that ``statement``, run as the example's last one without a savepoint of its
        own, was refused: the transaction stays failed until the example ends, and any further
        statement raises RuntimeError naming it (rather than PostgreSQL's "current
        transaction is aborted")."""
        self._ended_by = statement

    def _refuse_after_end(self, *args: Any) -> None:
        if self._ended_by is not None:
            raise RuntimeError(
                f"a statement after the example's last one ({str(self._ended_by)[:120]}), which "
                "PostgreSQL refused outside a savepoint: run it with attempt() instead")

    def close(self) -> None:
        """Roll back everything the test did and release the connection."""
        self._close_sessions()
        self.recorder.close()
        try:
            if self._outer.is_active:
                self._outer.rollback()
        finally:
            self.connection.close()
