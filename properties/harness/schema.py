"""Building the schema under test in a fresh database: Alembic, ``create_all`` or a SQL file."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL

from .binaries import find_server_bindir
from .errors import HarnessError

__all__ = ["SchemaSpec", "build_schema", "parse_schema_option"]

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
    """Parse ``--schema``. Returns a SchemaSpec; raises HarnessError for anything else, or for
    a ``sql:`` file that does not exist."""
    if text in ("migrations", "metadata"):
        return SchemaSpec(text)  # type: ignore[arg-type]
    if text.startswith("sql:") and len(text) > 4:
        path = Path(text[4:]).expanduser()
        if not path.is_file():
            raise HarnessError(f"--schema {text}: no such file {path}")
        return SchemaSpec("sql", path.resolve())
    raise HarnessError(
        f"--schema {text!r} is not understood: use migrations, metadata or sql:PATH"
    )


def _scrub(text: str, url: URL) -> str:
    if url.password:
        text = text.replace(str(url.password), "***")
    return text


def _upgrade_head(url: URL, alembic_ini: Path, alembic_env: str = "project",
                  metadata: sa.MetaData | None = None) -> None:
    # Imported here: Alembic is only needed for this way of building the schema.
    from alembic import command
    from alembic.config import Config

    if not alembic_ini.is_file():
        raise HarnessError(
            f"--alembic-ini {alembic_ini}: no such file (point it at your project's alembic.ini, "
            "or use --schema metadata to build the schema with create_all)"
        )
    config = Config(str(alembic_ini))
    config.set_main_option("sqlalchemy.url",
                           url.render_as_string(hide_password=False).replace("%", "%%"))
    if alembic_env == "suite":
        # --alembic-env suite: the project's revisions, the suite's generic env.py.
        from properties.migrations.environment import use_suite_env

        use_suite_env(config)
        config.attributes["target_metadata"] = metadata
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except HarnessError:
        raise
    except Exception as error:
        raise HarnessError(
            f"`alembic upgrade head` ({alembic_ini}) failed on a fresh database: "
            f"{_scrub(' '.join(str(error).split()), url)[:800]}"
        ) from None
    finally:
        engine.dispose()


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


def _run_sql_file(url: URL, path: Path) -> None:
    psql = _psql()
    if psql is None:
        raise HarnessError("--schema sql: needs the `psql` client on PATH (postgresql-client)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
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
        raise HarnessError(f"--schema sql:{path} failed: {_scrub(detail, url)[:1200]}")


def build_schema(url: URL, spec: SchemaSpec, metadata: sa.MetaData, alembic_ini: Path,
                 alembic_env: str = "project") -> None:
    """Build the schema under test into the (empty) database at ``url``; ``alembic_env``
    (``project`` or ``suite``) chooses the env.py that runs the migrations.

    Raises HarnessError naming the step that failed, with the database error, password masked.
    """
    if spec.kind == "migrations":
        _upgrade_head(url, alembic_ini, alembic_env, metadata)
    elif spec.kind == "metadata":
        _create_all(url, metadata)
    else:
        assert spec.sql_path is not None
        _run_sql_file(url, spec.sql_path)
