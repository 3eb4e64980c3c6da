"""Recording the SQL a test sends, so a failure can be replayed with ``psql`` alone.

SQLAlchemy's cursor events see every statement the connection runs (raw SQL, ORM flushes,
savepoints); psycopg2's ``mogrify`` renders each with its parameters exactly as sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from .diagnostics import sqlstate_of

__all__ = ["StatementRecorder", "repro_script_path", "write_repro_script"]


class StatementRecorder:
    """Keeps the statements of the current example, and those of the last failing one."""

    def __init__(self, connection: sa.Connection) -> None:
        self.current: list[str] = []
        self.failing: list[str] | None = None
        event.listen(connection, "before_cursor_execute", self._before_execute)
        event.listen(connection.engine, "handle_error", self._on_error)
        self._connection = connection

    def _before_execute(self, conn: sa.Connection, cursor: Any, statement: str,
                        parameters: Any, context: Any, executemany: bool) -> None:
        batches = parameters if executemany else [parameters]
        for params in batches:
            try:
                rendered = cursor.mogrify(statement, params)
                text = rendered.decode() if isinstance(rendered, bytes) else str(rendered)
            except Exception:  # a driver without mogrify: keep the statement, show the params
                text = f"{statement} /* parameters: {params!r} */"
            self.current.append(text.strip().rstrip(";") + ";")

    def _on_error(self, context: Any) -> None:
        if context.connection is not self._connection:
            return
        orig = context.original_exception
        state = sqlstate_of(orig)
        message = " ".join(str(orig).split())[:300]
        self.current.append(f"-- ^ failed with SQLSTATE {state}: {message}")

    def start_example(self) -> None:
        """Forget the statements of the previous example."""
        self.current = []

    def mark_failed(self) -> None:
        """Keep the current example's statements as the failing ones (Hypothesis runs the
        shrunk example last, so the last one kept is the minimal reproduction)."""
        self.failing = list(self.current)

    def close(self) -> None:
        """Stop listening (the engine outlives the connection)."""
        if event.contains(self._connection.engine, "handle_error", self._on_error):
            event.remove(self._connection.engine, "handle_error", self._on_error)


def repro_script_path(folder: Path, nodeid: str) -> Path:
    """Where the repro script of the test ``nodeid`` is written in ``folder``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in nodeid).strip("_")
    return folder / f"{safe[:180]}.sql"


def write_repro_script(folder: Path, nodeid: str, statements: list[str], how_to_build: str,
                       failure: str) -> Path:
    """Write ``statements`` as a standalone psql script named after the test and return its
    path. The script runs in a transaction that it rolls back, so it changes nothing."""
    path = repro_script_path(folder, nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    header = [
        f"-- Reproduces the failure of {nodeid}",
        "-- " + " ".join(failure.split())[:500],
        "-- Run against a fresh database holding the schema under test:",
        f"--   {how_to_build}",
        f"--   psql -X -d repro -f {path.name}",
        "\\set ON_ERROR_STOP off",
        "\\set VERBOSITY verbose",
        "BEGIN;",
    ]
    path.write_text("\n".join([*header, *statements, "ROLLBACK;", ""]))
    return path
