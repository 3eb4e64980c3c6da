"""Building the schema under test in a fresh database: Alembic, ``create_all`` or a SQL file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL

from .binaries import find_server_bindir
from .errors import HarnessError

__all__ = ["MigrationsBlocked", "SchemaSpec", "build_schema", "parse_schema_option",
           "upgrade_failure"]

SchemaKind = Literal["migrations", "metadata", "sql"]


@dataclass(frozen=True)
class SchemaSpec:
    """How the schema under test is built: ``migrations``, ``metadata`` or ``sql`` (+ path)."""

    kind: SchemaKind
    sql_path: Path | None = None

    def describe(self) -> str:
        """Return the option text this spec was parsed from."""
        return f"sql:{self.sql_path}" if self.kind == "sql" else self.kind


def parse_schema_option(text: str) -> SchemaSpec:
    """Parse ``--schemafuzz-schema``. Returns a SchemaSpec; raises HarnessError for anything else,
    or for a ``sql:`` file that does not exist."""
    if text in ("migrations", "metadata"):
        return SchemaSpec(text)  # type: ignore[arg-type]
    if text.startswith("sql:") and len(text) > 4:
        path = Path(text[4:]).expanduser()
        if not path.is_file():
            raise HarnessError(f"--schemafuzz-schema {text}: no such file {path}")
        return SchemaSpec("sql", path.resolve())
    raise HarnessError(
        f"--schemafuzz-schema {text!r} is not understood: use migrations, metadata or sql:PATH"
    )


def _scrub(text: str, url: URL) -> str:
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


class MigrationsBlocked(HarnessError):
    """The project's revisions cannot build the schema from an empty database. A finding about
    the project, not a setup problem: the properties that need the schema are blocked by it."""


def upgrade_failure(error: BaseException) -> str:
    """The finding for an ``upgrade head`` from an empty database that failed with ``error``
    (a ``MigrationError`` or ``MultipleHeadsError`` of the runner)."""
    revision = getattr(error, "revision", None)
    cause = getattr(error, "error", None)
    if revision is not None and cause is not None:
        first = " ".join(str(cause).split())
        return (f"revision {revision} fails on an empty database: {type(cause).__name__}: "
                f"{first[:400]}")
    return f"upgrade head fails on an empty database: {' '.join(str(error).split())[:400]}"


def _upgrade_head(url: URL, alembic_ini: Path, alembic_env: str,
                  metadata: sa.MetaData | None) -> None:
    # Imported here: Alembic is only needed for this way of building the schema.
    from schemafuzz.migrations.environment import parse_alembic_env
    from schemafuzz.migrations.runner import MigrationError, MigrationRunner, MultipleHeadsError

    runner = MigrationRunner(alembic_ini, url, env=parse_alembic_env(alembic_env),
                             target_metadata=metadata)
    try:
        runner.upgrade("head")
    except (MigrationError, MultipleHeadsError) as error:
        raise MigrationsBlocked(_scrub(upgrade_failure(error), url)) from None
    finally:
        runner.dispose()


def _create_all(url: URL, metadata: sa.MetaData) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        metadata.create_all(engine)
    except sa.exc.DBAPIError as error:
        raise HarnessError(
            f"create_all failed: {_scrub(' '.join(str(error.orig).split()), url)}"
        ) from None
    finally:
        engine.dispose()


def _psql() -> str | None:
    bindir = find_server_bindir()
    if bindir is not None and (bindir / "psql").is_file():
        return str(bindir / "psql")
    return shutil.which("psql")


# psql meta-commands that open another connection: a SQL file must build the schema in the
# database the suite hands it, nowhere else.
_CONNECT_COMMAND = re.compile(r"^\s*\\(c|connect)(\s|$)", re.MULTILINE)
# What psql may see of this process's environment: nothing that names a database.
_CHILD_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


def _refuse_reconnects(path: Path) -> None:
    text = path.read_text(errors="replace")
    match = _CONNECT_COMMAND.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        raise HarnessError(
            f"--schemafuzz-schema sql:{path}: line {line} has a \\connect, which would leave "
            "the database the suite built for it; remove it (pg_dump --schema-only without "
            "--create writes none)"
        )


def _run_sql_file(url: URL, path: Path) -> None:
    psql = _psql()
    if psql is None:
        raise HarnessError(
            "--schemafuzz-schema sql: needs the `psql` client on PATH (postgresql-client)")
    _refuse_reconnects(path)
    env = {k: os.environ[k] for k in _CHILD_ENV if k in os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string()
    # -b echoes the failing statement, ON_ERROR_STOP stops at the first error; psql also
    # confines the dump's `set_config('search_path', '', false)` to its own session.
    result = subprocess.run(
        [psql, "-X", "-q", "-b", "-v", "ON_ERROR_STOP=1", "--single-transaction",
         "-d", conninfo, "-f", str(path)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    if result.returncode != 0:
        detail = " | ".join(line.strip() for line in result.stderr.splitlines() if line.strip())
        raise HarnessError(f"--schemafuzz-schema sql:{path} failed: {_scrub(detail, url)[:1200]}")


def build_schema(url: URL, spec: SchemaSpec, metadata: sa.MetaData, alembic_ini: Path | None,
                 alembic_env: str = "suite") -> None:
    """Build the schema under test into the (empty) database at ``url``; ``alembic_env``
    (``suite``, the default, or ``project``) chooses the env.py that runs the migrations.

    Raises MigrationsBlocked (a finding) when the revisions cannot build the schema, and
    HarnessError naming the step that failed, with the error (password masked), for anything
    else: a project that cannot be loaded, a failing ``create_all`` or SQL file, migrations
    asked for with no ``alembic_ini``.
    """
    if spec.kind == "migrations":
        if alembic_ini is None:
            raise HarnessError("schema = migrations needs an Alembic project (alembic_ini)")
        _upgrade_head(url, alembic_ini, alembic_env, metadata)
    elif spec.kind == "metadata":
        _create_all(url, metadata)
    else:
        assert spec.sql_path is not None
        _run_sql_file(url, spec.sql_path)
