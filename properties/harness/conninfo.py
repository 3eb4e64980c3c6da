"""Where a connection would go: libpq parameters, URLs and client command lines read as
:class:`Target` s (host, port, database, user), for the connection guard (:mod:`.guard`).

libpq's rules are followed where they matter for that: PG* variables fill gaps, a multi-host
string is one target per host, a database defaults to the user's name, a conninfo or URI given
as a client program's database is parsed with libpq's own parser (psycopg2's ``parse_dsn``).
"""

from __future__ import annotations

import getpass
import os
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import URL

__all__ = [
    "LIBPQ_KEYS",
    "Target",
    "client_targets",
    "command_targets",
    "host_key",
    "libpq_params",
    "libpq_targets",
    "parse_conninfo",
    "shell_targets",
    "url_targets",
]

_DEFAULT_PORT = 5432
# Where libpq looks when no host is given (Debian's build; elsewhere /tmp). Never permitted.
_DEFAULT_SOCKET = "/var/run/postgresql" if os.path.isdir("/var/run/postgresql") else "/tmp"
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
# PostgreSQL's client programs: started as child processes they connect where their arguments
# and PG* variables say, out of this process's reach, so they are checked before they start.
_CLIENT_PROGRAMS = frozenset({
    "psql", "pg_dump", "pg_dumpall", "pg_restore", "createdb", "dropdb", "createuser",
    "dropuser", "vacuumdb", "reindexdb", "clusterdb", "pgbench", "pg_basebackup",
    "pg_receivewal", "pg_recvlogical", "pg_isready", "pg_amcheck",
})
# Options of those programs that take a value (so the value is not read as a database name).
_VALUE_OPTIONS = frozenset("cdEfFhIjLnNoOpPRStTUvWZ") - {"W", "O"}
_CONNECTION_OPTIONS = {"h": "host", "p": "port", "U": "user", "d": "dbname"}
_LONG_CONNECTION_OPTIONS = {"--host": "host", "--port": "port", "--username": "user",
                            "--dbname": "dbname"}
LIBPQ_KEYS = ("host", "hostaddr", "port", "dbname", "user", "password", "service")
_ENV_KEYS = {"PGHOST": "host", "PGHOSTADDR": "hostaddr", "PGPORT": "port",
             "PGDATABASE": "dbname", "PGUSER": "user", "PGSERVICE": "service"}
_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh"})


@dataclass(frozen=True)
class Target:
    """One place a connection would go: a host (name, address or socket folder), a port, a
    database and the user. Passwords are never kept."""

    host: str
    port: int
    database: str
    user: str | None = None
    password: bool = False  # whether one was given (shown as ***, never kept)
    scheme: str = "postgresql"

    @property
    def server(self) -> tuple[str, int]:
        """The (host, port) key, loopback names folded into one."""
        return (host_key(self.host), self.port)

    def describe(self) -> str:
        """The target as a URL with the password masked (``***``)."""
        if self.scheme != "postgresql":
            return f"{self.scheme}:///{self.database}"
        user = f"{self.user}{':***' if self.password else ''}@" if self.user else ""
        if self.host.startswith("/"):
            return f"postgresql://{user}/{self.database}?host={self.host}&port={self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{user}{host}:{self.port}/{self.database}"


def host_key(host: str) -> str:
    """The host as a permit key: loopback names folded into one, socket folders without a
    trailing slash, names lower-cased."""
    host = host.strip()
    if host in _LOOPBACK:
        return "loopback"
    return host.rstrip("/") if host.startswith("/") else host.lower()


def url_targets(url: URL) -> list[Target]:
    """The targets of a SQLAlchemy URL (its host, or a ``host`` in the query for a socket)."""
    params: dict[str, Any] = {"dbname": url.database or "postgres"}
    if url.username:
        params["user"] = url.username
    query_host = url.query.get("host")
    if url.host:
        params["host"] = url.host
    elif query_host:
        params["host"] = query_host if isinstance(query_host, str) else ",".join(query_host)
    if url.port:
        params["port"] = str(url.port)
    elif "port" in url.query:
        params["port"] = str(url.query["port"])
    return libpq_targets(params, environ={})


def _split(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",")]


def libpq_targets(params: Mapping[str, Any], environ: Mapping[str, str] | None = None
                  ) -> list[Target]:
    """The targets libpq would try for these connection parameters (``host``, ``hostaddr``,
    ``port``, ``dbname``, ``user``, ``service``), with the PG* variables of ``environ`` (default
    ``os.environ``) and libpq's defaults filling the gaps: one target per host of a
    multi-host string. A ``service`` cannot be resolved here: it yields a target named after it,
    which no permit matches."""
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {key: env[name] for name, key in _ENV_KEYS.items() if env.get(name)}
    merged.update({k: v for k, v in params.items() if v not in (None, "")})
    user = str(merged.get("user") or _os_user())
    database = str(merged.get("dbname") or user)
    if merged.get("service"):
        return [Target(f"service={merged['service']}", _DEFAULT_PORT, database, user)]
    hosts = _split(merged.get("host")) or _split(merged.get("hostaddr")) or [_DEFAULT_SOCKET]
    ports = _split(merged.get("port")) or [""]
    targets = []
    for index, host in enumerate(hosts):
        port = ports[index] if len(ports) == len(hosts) else ports[0]
        try:
            number = int(port) if port else _DEFAULT_PORT
        except ValueError:
            number = -1  # an unreadable port: no permit matches it
        targets.append(Target(host or _DEFAULT_SOCKET, number, database, user,
                              password=bool(merged.get("password"))))
    return targets


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "postgres"


def parse_conninfo(text: str) -> dict[str, Any]:
    """A libpq conninfo string or URI as a dict (psycopg2's parser, which is libpq's); one
    that cannot be parsed becomes an unresolvable ``service``, which no permit matches."""
    from psycopg2.extensions import parse_dsn

    try:
        return dict(parse_dsn(text))
    except Exception:
        return {"service": f"<unparsable connection string {len(text)} chars>"}


def _looks_like_conninfo(text: str) -> bool:
    return "=" in text or text.startswith(("postgres://", "postgresql://"))


def client_targets(argv: Sequence[str], environ: Mapping[str, str] | None = None
                   ) -> list[Target] | None:
    """The targets of a PostgreSQL client program started with ``argv`` (``psql -h ... -d
    ...``, a conninfo or URI as the database, positional database and user) and ``environ``;
    None when ``argv`` is not such a program."""
    if not argv:
        return None
    program = os.path.basename(str(argv[0]))
    if program not in _CLIENT_PROGRAMS:
        return None
    params: dict[str, Any] = {}
    positional: list[str] = []
    args = [str(a) for a in argv[1:]]
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            positional.extend(args[index:])
            break
        if arg.startswith("--"):
            name, _, value = arg.partition("=")
            if name in _LONG_CONNECTION_OPTIONS:
                if not _:
                    value = args[index] if index < len(args) else ""
                    index += 1
                params[_LONG_CONNECTION_OPTIONS[name]] = value
            continue
        if arg.startswith("-") and len(arg) > 1:
            letter = arg[1]
            if letter in _VALUE_OPTIONS:
                value = arg[2:]
                if not value:
                    value = args[index] if index < len(args) else ""
                    index += 1
                if letter in _CONNECTION_OPTIONS:
                    params[_CONNECTION_OPTIONS[letter]] = value
            continue
        positional.append(arg)
    if positional and "dbname" not in params:
        params["dbname"] = positional[0]
    if len(positional) > 1 and program == "psql" and "user" not in params:
        params["user"] = positional[1]
    dbname = str(params.get("dbname") or "")
    if _looks_like_conninfo(dbname):
        parsed = parse_conninfo(dbname)
        params = {**{k: v for k, v in params.items() if k != "dbname"}, **parsed}
    return libpq_targets(params, os.environ if environ is None else environ)


def libpq_params(dsn: object, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The libpq parameters of a driver's ``connect(dsn, **kwargs)`` call."""
    params = parse_conninfo(dsn) if isinstance(dsn, str) and dsn else {}
    params.update({k: v for k, v in kwargs.items() if k in LIBPQ_KEYS and v is not None})
    if kwargs.get("database") is not None and "dbname" not in params:
        params["dbname"] = kwargs["database"]
    return params


_SHELL_OPERATORS = frozenset({"|", "||", "&&", ";", "&", "(", ")"})


def _command_lines(tokens: Sequence[str]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """The simple commands of a shell command line (split on ``|``, ``&&``, ``;``...), each
    as its argv and the ``VAR=value`` assignments before it."""
    argv: list[str] = []
    assignments: dict[str, str] = {}
    for token in [*tokens, ";"]:
        if token in _SHELL_OPERATORS:
            if argv:
                yield argv, assignments
            argv, assignments = [], {}
        elif not argv and "=" in token and token.split("=", 1)[0].isidentifier():
            name, value = token.split("=", 1)
            assignments[name] = value
        else:
            argv.append(token)


def shell_targets(command: str, environ: Mapping[str, str] | None
                  ) -> Iterator[tuple[str, list[Target]]]:
    """For each PostgreSQL client program a shell command line starts: its name and targets."""
    try:
        tokens = shlex.split(command, posix=True)
    except ValueError:
        return
    base = dict(os.environ if environ is None else environ)
    for argv, assignments in _command_lines(tokens):
        targets = client_targets(argv, {**base, **assignments})
        if targets:
            yield os.path.basename(argv[0]), targets




def command_targets(argv: Sequence[str], environ: Mapping[str, str] | None
                    ) -> Iterator[tuple[str, list[Target]]]:
    """For each PostgreSQL client program a child process started with ``argv`` runs (itself,
    or the commands of ``sh -c LINE``, as ``shell=True`` starts them): its name and targets."""
    if len(argv) > 2 and argv[1] == "-c" and os.path.basename(argv[0]) in _SHELLS:
        yield from shell_targets(argv[2], environ)
        return
    targets = client_targets(argv, environ)
    if targets:
        yield os.path.basename(argv[0]), targets
