"""The connection guard: while the suite runs, its processes reach only the suite's own databases.

Armed for the whole run (:func:`arm`), the guard lets a process connect only to

* a server the suite started itself (every database there is the suite's), and
* on a server the user named (``--schemafuzz-db-url``), that URL's admin database and the databases
  the suite created there (:func:`permit_database`, called by ``DatabaseFactory``).

Every other attempt, by anyone (the app's settings at import time, its Alembic ``env.py``, a
default factory, a validator, a child ``psql``), is refused before anything is sent, with a
:class:`GuardRefusal` naming who tried (file and line), the target (password masked) and what
to do. Refusals are also kept (:func:`refusals`) so that the run ends on them even when the
app's code catches the exception.

Where it holds: psycopg2's ``connect``, psycopg 3's ``Connection.connect`` /
``AsyncConnection.connect`` and asyncpg's ``connect`` (when importable), SQLAlchemy's
``do_connect`` event for every engine (so any dialect and driver SQLAlchemy drives is checked
too), and an audit hook (PEP 578) on starting child processes, which refuses PostgreSQL client
programs (``psql``, ``pg_dump``, ...) aimed elsewhere. Its limits are in README ("Safety").

Written by hand: no library restricts where a process may connect; psycopg2 has no connection
hook, SQLAlchemy's event covers engines only, and the audit hook sees child processes but not
libpq's own sockets.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy.engine import URL

from .conninfo import (
    LIBPQ_KEYS,
    Target,
    command_targets,
    host_key,
    libpq_params,
    libpq_targets,
    parse_conninfo,
    shell_targets,
    url_targets,
)
from .errors import HarnessError

__all__ = [
    "GuardRefusal",
    "arm",
    "permit_database",
    "permit_server",
    "project_env",
    "refusals",
]

_SPAWN_EVENTS = frozenset({"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                           "os.spawn"})


class GuardRefusal(HarnessError):
    """A connection (or a child process) the guard refused; the message is one line: who
    tried, where to, and what to do."""


class _State:
    """What the guard allows and what it refused; one per process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.armed = False
        self.servers: set[tuple[str, int]] = set()
        self.databases: set[tuple[str, int, str]] = set()
        self.refused: list[str] = []
        self.project_envs: list[Path] = []
        self.installed = False


_STATE = _State()


def permit_server(url: URL, socket_dir: Path | None = None) -> None:
    """Allow every database on the server at ``url`` (one the suite started: all of it is the
    suite's), also when reached through ``socket_dir``."""
    with _STATE.lock:
        for target in url_targets(url):
            _STATE.servers.add(target.server)
            if socket_dir is not None:
                _STATE.servers.add((host_key(str(socket_dir)), target.port))


def permit_database(url: URL) -> None:
    """Allow the one database at ``url`` (the admin database of ``--schemafuzz-db-url``, or a
    database the suite created there)."""
    with _STATE.lock:
        for target in url_targets(url):
            _STATE.databases.add((*target.server, target.database))


def _allowed(target: Target) -> bool:
    return (target.server in _STATE.servers
            or (*target.server, target.database) in _STATE.databases)


def arm() -> None:
    """Turn the guard on for this process (idempotent): from now on only permitted targets may
    be reached. Installs the driver wrappers, the SQLAlchemy event and the audit hook once."""
    with _STATE.lock:
        _STATE.armed = True
        if _STATE.installed:
            return
        _STATE.installed = True
    _install_sqlalchemy_event()
    _wrap_drivers()
    sys.addaudithook(_audit)


def refusals() -> list[str]:
    """The refusals of this process so far, one line each, oldest first."""
    with _STATE.lock:
        return list(_STATE.refused)


@contextlib.contextmanager
def project_env(env_py: Path) -> Iterator[None]:
    """Mark that the project's own Alembic ``env.py`` runs now: a refusal meanwhile says so,
    with the way out (the suite's env)."""
    _STATE.project_envs.append(env_py.resolve())
    try:
        yield
    finally:
        _STATE.project_envs.pop()


# --- who tried -----------------------------------------------------------------------------


_STDLIB = tuple({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]})
_PASS_THROUGH = ("sqlalchemy", "alembic", "psycopg2", "psycopg", "psycopg_pool", "asyncpg",
                 "pg8000", "greenlet", "sqlmodel")


def _is_pass_through(filename: str) -> bool:
    """Whether a frame of this file only passes a connection on (the guard, a driver,
    SQLAlchemy, Alembic, SQLModel, the standard library) rather than asking for it."""
    if filename.startswith("<") or filename == __file__:
        return True
    if filename.startswith(_STDLIB) and not any(
            part in filename for part in ("/site-packages/", "/dist-packages/")):
        return True
    for name in _PASS_THROUGH:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "__file__", None) and filename.startswith(
                os.path.dirname(str(module.__file__)) + os.sep):
            return True
    return False


def _outwards(frame: FrameType | None) -> Iterator[FrameType]:
    """``frame`` and its callers, outermost last. SQLAlchemy's async engines run the blocking
    part (the pool, the do_connect event) in a greenlet of their own, whose stack ends where it
    was started: the walk goes on in the greenlet that started it (the caller's coroutine)."""
    greenlets = sys.modules.get("greenlet")
    current = greenlets.getcurrent() if greenlets is not None else None
    while frame is not None:
        yield frame
        frame = frame.f_back
        while frame is None and current is not None and current.parent is not None:
            current = current.parent
            frame = current.gr_frame


def _caller(frame: FrameType | None) -> tuple[str, int] | None:
    """File and line of the innermost frame that asked for the connection."""
    for outer in _outwards(frame):
        if not _is_pass_through(outer.f_code.co_filename):
            return outer.f_code.co_filename, outer.f_lineno
    return None


def _show(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return path


def _env_frame(frame: FrameType | None) -> tuple[str, int] | None:
    """The frame of the project's env.py that is running now, if one is on the stack."""
    envs = {str(path) for path in _STATE.project_envs}
    for outer in _outwards(frame if envs else None):
        if outer.f_code.co_filename in envs:
            return outer.f_code.co_filename, outer.f_lineno
    return None


def _refuse(targets: list[Target], what: str, frame: FrameType | None) -> None:
    """Raise GuardRefusal for the first target not permitted (recording it), else return."""
    refused = [t for t in targets if not _allowed(t)]
    if not refused:
        return
    target = refused[0].describe()
    env = _env_frame(frame)
    if env is not None:
        line = (f"{_show(env[0])}:{env[1]} opens its own connection to {target}; use the "
                "suite's env (the default) or make env.py use config.attributes['connection']")
    else:
        caller = _caller(frame)
        who = f"{_show(caller[0])}:{caller[1]}" if caller else "code outside any file"
        line = (f"{who} {what} {target}, a database this run did not create: the suite lets "
                "its processes reach only its own databases; make that code use the connection "
                "or URL it is given (and connect lazily, not at import time)")
    with _STATE.lock:
        if line not in _STATE.refused:
            _STATE.refused.append(line)
    raise GuardRefusal(line)


# --- where it holds -------------------------------------------------------------------------


def _install_sqlalchemy_event() -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    event.listen(Engine, "do_connect", _on_engine_connect)


def _on_engine_connect(dialect: Any, _record: Any, cargs: Sequence[Any],
                       cparams: dict[str, Any]) -> None:
    if not _STATE.armed:
        return
    frame = sys._getframe(1)
    if dialect.name != "postgresql":
        database = str(cparams.get("database") or (cargs[0] if cargs else "") or "")
        if dialect.name == "sqlite" and database in ("", ":memory:"):
            return
        target = Target(f"{dialect.name}:{database}", 0, database, scheme=str(dialect.name))
        _refuse([target], "tried to connect to", frame)
        return
    params: dict[str, Any] = {}
    if cargs and isinstance(cargs[0], str):
        params.update(parse_conninfo(cargs[0]))
    for key in ("dsn", "conninfo"):
        if isinstance(cparams.get(key), str):
            params.update(parse_conninfo(cparams[key]))
    params.update({k: cparams[k] for k in LIBPQ_KEYS if cparams.get(k) not in (None, "")})
    if "database" in cparams and "dbname" not in params:
        params["dbname"] = cparams["database"]
    if cparams.get("unix_sock") and "host" not in params:
        params["host"] = os.path.dirname(str(cparams["unix_sock"]))
    _refuse(libpq_targets(params), "tried to connect to", frame)


def _checked(original: Callable[..., Any], params_of: Callable[..., dict[str, Any]]
             ) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(*args: Any, **kwargs: Any) -> Any:
        if _STATE.armed:
            _refuse(libpq_targets(params_of(*args, **kwargs)), "tried to connect to",
                    sys._getframe(1))
        return original(*args, **kwargs)

    connect._schemafuzz_guarded = True  # type: ignore[attr-defined]
    return connect


def _checked_async(original: Callable[..., Any], params_of: Callable[..., dict[str, Any]]
                   ) -> Callable[..., Any]:
    @functools.wraps(original)
    async def connect(*args: Any, **kwargs: Any) -> Any:
        if _STATE.armed:
            _refuse(libpq_targets(params_of(*args, **kwargs)), "tried to connect to",
                    sys._getframe(1))
        return await original(*args, **kwargs)

    connect._schemafuzz_guarded = True  # type: ignore[attr-defined]
    return connect


def _dsn_params(dsn: object = None, *_args: Any, **kwargs: Any) -> dict[str, Any]:
    """psycopg2's and asyncpg's ``connect(dsn, **kwargs)``."""
    return libpq_params(dsn, kwargs)


def _psycopg_params(_cls: Any = None, conninfo: object = "", *_args: Any, **kwargs: Any
                    ) -> dict[str, Any]:
    return libpq_params(conninfo, kwargs)


def _wrap_drivers() -> None:
    """Wrap the connect functions of the PostgreSQL drivers that are importable."""
    with contextlib.suppress(ImportError):
        import psycopg2

        if not getattr(psycopg2.connect, "_schemafuzz_guarded", False):
            setattr(psycopg2, "connect", _checked(psycopg2.connect, _dsn_params))  # noqa: B010
    with contextlib.suppress(ImportError):
        import psycopg

        for cls in (psycopg.Connection, psycopg.AsyncConnection):
            original = cls.__dict__["connect"].__func__
            if getattr(original, "_schemafuzz_guarded", False):
                continue
            wrap = _checked_async if cls is psycopg.AsyncConnection else _checked
            setattr(cls, "connect", classmethod(wrap(original, _psycopg_params)))  # noqa: B010
        setattr(psycopg, "connect", psycopg.Connection.connect)  # noqa: B010
    with contextlib.suppress(ImportError):
        import asyncpg
        import asyncpg.connection

        if not getattr(asyncpg.connection.connect, "_schemafuzz_guarded", False):
            guarded = _checked_async(asyncpg.connection.connect, _dsn_params)
            setattr(asyncpg.connection, "connect", guarded)  # noqa: B010
            setattr(asyncpg, "connect", guarded)  # noqa: B010


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Runs for every audited event of the process: the first test must stay cheap.
    if event not in _SPAWN_EVENTS or not _STATE.armed:
        return
    frame = sys._getframe(1)
    if event == "os.system":
        for program, targets in shell_targets(os.fsdecode(args[0]), None):
            _refuse(targets, f"starts `{program}` aimed at", frame)
        return
    if event == "subprocess.Popen":
        executable, raw, _cwd, env = args
        argv = [raw] if isinstance(raw, (str, bytes, os.PathLike)) else list(raw or [])
        if executable is not None and argv:
            argv = [executable, *argv[1:]]
    else:  # os.exec / os.posix_spawn: (path, argv, env); os.spawn: (mode, path, argv, env)
        rest = args[1:] if event == "os.spawn" else args
        argv, env = list(rest[1] or []), rest[2] if len(rest) > 2 else None
    words = [os.fsdecode(a) if isinstance(a, (bytes, os.PathLike)) else str(a) for a in argv]
    environ = None if env is None else {
        os.fsdecode(k): os.fsdecode(v) for k, v in dict(env).items()}
    for program, targets in command_targets(words, environ):
        _refuse(targets, f"starts `{program}` aimed at", frame)
