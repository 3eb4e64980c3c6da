"""A runner over one Alembic project (an ``alembic.ini``) and one database URL.

The same seam as pytest-alembic's ``MigrationContext``: every migration step of the suite (the
schema build and every migration property) goes through :class:`MigrationRunner`, with the
project's ``Config`` built one way (:func:`.config.project_config`).

By default (``env="suite"``) the project's revisions run through the suite's env.py on the
runner's connection, ``target_metadata`` from the runner. With ``env="project"`` the project's
own env.py runs and receives the database twice: ``sqlalchemy.url`` (main option) and
``config.attributes["connection"]``, an open connection, which it must use (Alembic's "sharing
a connection" recipe; the reference backend does). One that opens its own connection is
stopped by the connection guard; one that fails to load is an
:class:`~.config.AlembicProjectError` that says so and names the suite's env as the way out.
The runner commits after each command, so migrations run inside env.py's
``context.begin_transaction()`` are kept.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import NullPool

from schemafuzz.harness import guard

from ..findings import FindingError
from .config import AlembicProjectError, env_py_of, one_line, project_config, versions_of
from .environment import DEFAULT_ALEMBIC_ENV, AlembicEnv

__all__ = ["MigrationError", "MigrationRunner", "MultipleHeadsError"]


class MigrationError(FindingError):
    """A migration step failed; names the revision, the direction and the database error
    (with its SQLSTATE when PostgreSQL raised it)."""

    def __init__(self, revision: str, direction: str, error: BaseException) -> None:
        self.revision = revision
        self.direction = direction
        self.error = error
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        sqlstate = getattr(getattr(error, "orig", None), "pgcode", None)
        code = f" (SQLSTATE {sqlstate})" if sqlstate else ""
        super().__init__(
            f"{direction} of revision {revision} failed: {type(error).__name__}: {first}{code}"
        )


class MultipleHeadsError(FindingError):
    """The history has more than one head; names every head and its down revision."""

    def __init__(self, heads: list[Script]) -> None:
        self.heads = [h.revision for h in heads]
        described = ", ".join(
            f"{h.revision} (down_revision {h.down_revision!r}: {h.doc or 'no message'})"
            for h in heads
        )
        super().__init__(
            f"expected a single head revision, found {len(heads)}: {described}; "
            "merge them with `alembic merge heads`"
        )


@dataclass
class MigrationRunner:
    """Run Alembic commands of the project at ``alembic_ini`` against the database at ``url``.

    ``timings`` collects ``(label, seconds)`` of every timed command, for the report. ``env``
    chooses the env.py (``"project"``: the project's; ``"suite"``: the suite's generic one, see
    :mod:`.environment`); ``target_metadata`` is handed to env.py in
    ``config.attributes["target_metadata"]`` (the suite's env.py needs it for ``alembic check``).
    """

    alembic_ini: Path
    url: URL
    timings: dict[str, float] = field(default_factory=dict)
    _engine: Engine | None = field(default=None, repr=False)
    env: AlembicEnv = DEFAULT_ALEMBIC_ENV
    target_metadata: MetaData | None = field(default=None, repr=False)

    def on(self, url: URL) -> MigrationRunner:
        """Return a runner over the same project (and env, metadata) on another database."""
        return MigrationRunner(self.alembic_ini, url, env=self.env,
                               target_metadata=self.target_metadata)

    @property
    def engine(self) -> Engine:
        """Return an engine on :attr:`url` without pooling (connections close for real)."""
        if self._engine is None:
            self._engine = create_engine(self.url, poolclass=NullPool)
        return self._engine

    def dispose(self) -> None:
        """Close the runner's engine; the runner can still be used afterwards."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def config(self, connection: Connection | None = None) -> Config:
        """Return an Alembic ``Config`` for the project, wired to :attr:`url` (and
        ``connection``), usable from any working directory (:func:`.config.project_config`).

        Raises AlembicProjectError when the project cannot be loaded.
        """
        return project_config(self.alembic_ini, env=self.env, url=self.url,
                              target_metadata=self.target_metadata, connection=connection)

    def running_env(self, cfg: Config) -> contextlib.AbstractContextManager[None]:
        """A context to run Alembic commands of ``cfg`` in: with the project's env.py, it tells
        the connection guard that this env.py is running (a connection it opens is named)."""
        if self.env == "project":
            return guard.project_env(env_py_of(cfg))
        return contextlib.nullcontext()

    @property
    def script(self) -> ScriptDirectory:
        """Return the project's ``ScriptDirectory``."""
        return ScriptDirectory.from_config(self.config())

    def heads(self) -> list[Script]:
        """Return the head revisions of the history (one for a healthy project)."""
        script = self.script
        return [r for h in script.get_heads() if (r := script.get_revision(h)) is not None]

    def revisions(self) -> list[str]:
        """Return revision ids from base to head, reading the whole history (every revision file
        is imported).

        Raises :class:`MultipleHeadsError` when the history has more than one head, since "each
        revision, in order" is not defined then, and AlembicProjectError, one line naming the
        file and the error, when the project or one of its revision files cannot be loaded.
        """
        cfg = self.config()
        try:
            script = ScriptDirectory.from_config(cfg)
            heads = script.get_heads()
            ids = [s.revision for s in reversed(list(script.walk_revisions("base", "heads")))]
        except AlembicProjectError:
            raise
        except Exception as error:
            where = _innermost_file(error, versions_of(cfg)) or str(self.alembic_ini)
            raise AlembicProjectError(
                f"{where}: cannot be loaded: {type(error).__name__}: {one_line(error)}"
            ) from None
        if len(heads) != 1:
            raise MultipleHeadsError(self.heads())
        return ids

    def previous(self, revision: str) -> str:
        """Return the revision before ``revision`` in :meth:`revisions`, or ``"base"``."""
        revs = self.revisions()
        index = revs.index(revision)
        return revs[index - 1] if index else "base"

    def describe(self, revision: str) -> str:
        """Return ``"<id> (<message>)"`` for messages that name a revision."""
        if revision in ("base", "head", "heads"):
            return revision
        doc = self.script.get_revision(revision)
        message = (doc.doc or "").strip() if doc else ""
        return f"{revision} ({message})" if message else revision

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """Yield a connection on :attr:`url`, closed afterwards."""
        with self.engine.connect() as connection:
            yield connection

    def current(self) -> str:
        """Return the revision the database is at, ``"base"`` when unversioned."""
        with self.connect() as connection:
            heads = MigrationContext.configure(connection).get_current_heads()
        return ",".join(heads) if heads else "base"

    def _run(self, direction: str, target: str) -> None:
        with self.connect() as connection:
            cfg = self.config(connection)
            try:
                with self.running_env(cfg), contextlib.redirect_stderr(io.StringIO()):
                    if direction == "upgrade":
                        command.upgrade(cfg, target)
                    else:
                        command.downgrade(cfg, target)
            except guard.GuardRefusal:
                raise
            except Exception as error:
                env_py = env_py_of(cfg)
                if self.env == "project" and _failed_in_env_py(error, env_py, versions_of(cfg)):
                    raise AlembicProjectError(
                        f"{env_py}: {type(error).__name__}: {one_line(error)}; this is your "
                        "project's env.py (alembic_env = project): the suite's env, the "
                        "default, runs your revisions without it"
                    ) from None
                raise
            connection.commit()

    def upgrade(
        self,
        target: str = "head",
        *,
        stepwise: bool = True,
        on_step: Callable[[str], None] | None = None,
    ) -> float:
        """Upgrade to ``target``; return the seconds it took.

        With ``stepwise`` (default) the history is applied one revision at a time, so a failure
        raises :class:`MigrationError` naming the revision that failed; a history with several
        heads is then refused with :class:`MultipleHeadsError`. ``on_step(revision)`` is called
        after each revision's upgrade (excluded from the duration).
        """
        start = time.perf_counter()
        if not stepwise:
            try:
                self._run("upgrade", target)
            except (guard.GuardRefusal, AlembicProjectError):
                raise
            except Exception as exc:
                raise MigrationError(target, "upgrade", exc) from exc
            return time.perf_counter() - start
        revs = self.revisions()
        current = self.current()
        position = 0 if current == "base" else revs.index(current) + 1
        end = len(revs) if target in ("head", "heads") else revs.index(target) + 1
        spent = 0.0
        for rev in revs[position:end]:
            step = time.perf_counter()
            try:
                self._run("upgrade", rev)
            except (guard.GuardRefusal, AlembicProjectError):
                raise
            except Exception as exc:
                raise MigrationError(self.describe(rev), "upgrade", exc) from exc
            spent += time.perf_counter() - step
            if on_step is not None:
                on_step(rev)
        return spent

    def downgrade(
        self, target: str = "base", *, on_step: Callable[[str], None] | None = None
    ) -> float:
        """Downgrade one revision at a time to ``target``; return the seconds it took.

        ``on_step(revision)`` is called after each revision's downgrade (excluded from the
        duration). Raises :class:`MigrationError` naming the revision whose downgrade failed.
        """
        spent = 0.0
        revs = self.revisions()
        current = self.current()
        if current == "base":
            return 0.0
        position = revs.index(current)
        stop = -1 if target == "base" else revs.index(target)
        for index in range(position, stop, -1):
            below = revs[index - 1] if index else "base"
            step = time.perf_counter()
            try:
                self._run("downgrade", below)
            except (guard.GuardRefusal, AlembicProjectError):
                raise
            except Exception as exc:
                raise MigrationError(self.describe(revs[index]), "downgrade", exc) from exc
            spent += time.perf_counter() - step
            if on_step is not None:
                on_step(revs[index])
        return spent

    def timed(self, label: str, seconds: float) -> float:
        """Record ``seconds`` under ``label`` in :attr:`timings` and return it."""
        self.timings[label] = round(seconds, 4)
        return seconds


def _frames(error: BaseException) -> list[str]:
    files = []
    tb = error.__traceback__
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return files


def _innermost_file(error: BaseException, folders: list[Path]) -> str | None:
    """The innermost file of the traceback inside one of ``folders`` (a revision file)."""
    roots = tuple(str(folder) for folder in folders)
    inside = [f for f in _frames(error) if f.startswith(roots)]
    if inside:
        return inside[-1]
    syntax_file = getattr(error, "filename", None)  # SyntaxError in a revision file
    return str(syntax_file) if syntax_file and str(syntax_file).startswith(roots) else None


def _failed_in_env_py(error: BaseException, env_py: Path, versions: list[Path]) -> bool:
    """Whether ``error`` came from env.py itself rather than from a revision it ran."""
    files = _frames(error)
    return str(env_py) in files and _innermost_file(error, versions) is None
