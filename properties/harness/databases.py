"""Creating, marking and dropping the suite's own databases on a PostgreSQL server.

Every database the suite creates is named ``schemafuzz_<hex>`` and carries a comment (the
marker) naming the host and process that made it. Only marked databases are ever dropped, so a
server a user points us at keeps everything it held before.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError

from . import guard
from .diagnostics import sqlstate_of
from .errors import HarnessError

__all__ = ["MARKER_PREFIX", "DatabaseFactory", "describe_url", "suite_database_names"]

MARKER_PREFIX = "schemafuzz-owned "
_STALE_AFTER_SECONDS = 6 * 3600
_CONNECT_TIMEOUT_SECONDS = 10


def describe_url(url: URL) -> str:
    """Return ``url`` as text with the password masked, safe for messages and logs."""
    return url.render_as_string(hide_password=True)


def suite_database_names(admin_url: URL) -> set[str]:
    """Names of every ``schemafuzz_*`` database on the server (marked or not), for checking
    that a run left none behind. Raises DBAPIError when the server cannot be queried."""
    engine = sa.create_engine(admin_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT datname FROM pg_database WHERE datname LIKE 'schemafuzz%%'").all()
    finally:
        engine.dispose()
    return {str(row[0]) for row in rows}


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class DatabaseFactory:
    """Makes and removes the suite's databases on one server reached through ``admin_url``.

    ``admin_url`` names a maintenance database (usually ``postgres``) that the suite only
    connects to; it never writes there.
    """

    admin_url: URL
    run_id: str = field(default_factory=lambda: secrets.token_hex(8))
    created: list[str] = field(default_factory=list)

    def _admin_engine(self) -> sa.Engine:
        return sa.create_engine(
            self.admin_url,
            isolation_level="AUTOCOMMIT",
            poolclass=sa.pool.NullPool,
            connect_args={"connect_timeout": _CONNECT_TIMEOUT_SECONDS},
        )

    def check_reachable(self) -> str:
        """Connect once and return the server version string.

        Raises HarnessError naming the server (password masked) when it cannot be reached.
        """
        engine = self._admin_engine()
        try:
            with engine.connect() as conn:
                return str(conn.exec_driver_sql("SHOW server_version").scalar())
        except OperationalError as error:
            raise HarnessError(
                f"cannot connect to {describe_url(self.admin_url)}: {_first_line(error)} "
                "(check host, port, user and password, and that the server is running)"
            ) from None
        finally:
            engine.dispose()

    def create_database(self, template: str | None = None) -> URL:
        """Create a new marked database and return its URL: empty, or a copy of ``template``
        (a database of this run, e.g. one with the schema already built).

        Raises HarnessError when the role may not create databases (with the GRANT to run)
        or the server refuses for another reason.
        """
        name = f"schemafuzz_{secrets.token_hex(6)}"
        marker = MARKER_PREFIX + json.dumps(
            {"host": socket.gethostname(), "pid": os.getpid(), "created": int(time.time()),
             "run": self.run_id}
        )
        fresh = "template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        source = f'"{template}"' if template else fresh
        engine = self._admin_engine()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE {source}')
                self.created.append(name)
                guard.permit_database(self.admin_url.set(database=name))
                conn.exec_driver_sql(f'COMMENT ON DATABASE "{name}" IS %(marker)s',
                                     {"marker": marker})
        except DBAPIError as error:
            if sqlstate_of(error) == "42501":
                user = self.admin_url.username or "the connecting role"
                raise HarnessError(
                    f"role {user!r} may not create databases on {describe_url(self.admin_url)}; "
                    f"as a superuser run: ALTER ROLE \"{user}\" CREATEDB;  "
                    "(the suite works only in databases it creates and drops itself)"
                ) from None
            raise HarnessError(
                f"could not create a database on {describe_url(self.admin_url)}: "
                f"{_first_line(error)}"
            ) from None
        finally:
            engine.dispose()
        return self.admin_url.set(database=name)

    def drop_database(self, url: URL) -> None:
        """Drop a database this factory created (terminating its sessions). Never raises for a
        database that is already gone; refuses, with HarnessError, any database it did not create.
        """
        name = url.database or ""
        if name not in self.created:
            raise HarnessError(f"refusing to drop database {name!r}: the suite did not create it")
        engine = self._admin_engine()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            engine.dispose()
        self.created.remove(name)

    def drop_all_created(self) -> list[str]:
        """Drop every database this factory created and return the names it could not drop."""
        failed: list[str] = []
        for name in list(self.created):
            try:
                self.drop_database(self.admin_url.set(database=name))
            except (DBAPIError, HarnessError):
                failed.append(name)
        return failed

    def drop_run(self) -> list[str]:
        """Drop every database marked with this factory's run id, including those made by
        other processes of the same run (pytest-xdist workers, one of which may have died), and
        return their names."""
        engine = self._admin_engine()
        dropped: list[str] = []
        try:
            with engine.connect() as conn:
                for name, comment in self._marked(conn):
                    marker = self._parse_marker(comment)
                    if marker is not None and marker.get("run") == self.run_id:
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                        dropped.append(name)
        finally:
            engine.dispose()
        self.created = [name for name in self.created if name not in dropped]
        return dropped

    @staticmethod
    def _marked(conn: sa.Connection) -> list[tuple[str, str | None]]:
        rows = conn.exec_driver_sql(
            "SELECT d.datname, shobj_description(d.oid, 'pg_database') "
            "FROM pg_database d WHERE d.datname LIKE 'schemafuzz\\_%%'"
        ).all()
        return [(str(name), comment) for name, comment in rows]

    @staticmethod
    def _parse_marker(comment: str | None) -> dict[str, object] | None:
        if not comment or not comment.startswith(MARKER_PREFIX):
            return None
        try:
            marker = json.loads(comment[len(MARKER_PREFIX):])
        except ValueError:
            return None
        return marker if isinstance(marker, dict) else None

    def drop_stale(self) -> list[str]:
        """Drop marked databases left behind by crashed runs, and return their names.

        A database counts as stale only when it carries the suite's marker and either its
        creating process (on this host) is gone, or it is older than six hours. A database
        still in use is left alone (DROP without FORCE fails on open sessions).
        """
        engine = self._admin_engine()
        dropped: list[str] = []
        try:
            with engine.connect() as conn:
                for name, comment in self._marked(conn):
                    if not self._is_stale(comment):
                        continue
                    try:
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                        dropped.append(name)
                    except DBAPIError:
                        continue
        finally:
            engine.dispose()
        return dropped

    @classmethod
    def _is_stale(cls, comment: str | None) -> bool:
        marker = cls._parse_marker(comment)
        if marker is None:
            return False
        try:
            host, pid = str(marker["host"]), int(str(marker["pid"]))
            created = int(str(marker["created"]))
        except (KeyError, ValueError):
            return False
        if time.time() - created > _STALE_AFTER_SECONDS:
            return True
        return host == socket.gethostname() and pid != os.getpid() and not _pid_alive(pid)
