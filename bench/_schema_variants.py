"""Variants of the reference schema and running the product's properties against them.

Shared by the broken-schema tests (``tests/properties``), the mutation benchmark
(``bench/mutants.py``) and its CI subset (``tests/bench``): a database migrated to head with the
reference backend, its ``pg_dump --schema-only``, that dump with one change appended, and a
child ``pytest`` running the properties against it with ``--schemafuzz-schema sql:PATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlmodel import SQLModel

from schemafuzz.harness import DatabaseFactory, HarnessError, SchemaSpec, build_schema
from schemafuzz.harness.binaries import find_server_bindir

__all__ = [
    "REPO",
    "broken_dump",
    "copy_models_with",
    "dump_schema",
    "migrated_reference",
    "reference_dump",
    "reference_metadata",
    "run_properties",
]

REPO = Path(__file__).resolve().parents[1]


def reference_metadata() -> sa.MetaData:
    """The reference backend's MetaData (``backend.app.models``)."""
    import backend.app.models as models

    metadata = getattr(models, "metadata", None)
    return metadata if isinstance(metadata, sa.MetaData) else SQLModel.metadata


@contextmanager
def migrated_reference(factory: DatabaseFactory,
                       metadata: sa.MetaData | None = None) -> Iterator[URL]:
    """Yield the URL of a new database on ``factory`` migrated to head with the reference
    backend's Alembic project; the database is dropped afterwards. Raises HarnessError when the
    migration fails."""
    url = factory.create_database()
    try:
        build_schema(url, SchemaSpec("migrations"), metadata or reference_metadata(),
                     REPO / "backend" / "alembic.ini")
        yield url
    finally:
        factory.drop_database(url)


def dump_schema(url: URL) -> str:
    """Return ``pg_dump --schema-only --no-owner`` of the database at ``url``. Raises
    HarnessError when pg_dump cannot be found, and CalledProcessError when it fails."""
    bindir = find_server_bindir()
    pg_dump = str(bindir / "pg_dump") if bindir is not None else shutil.which("pg_dump")
    if pg_dump is None:
        raise HarnessError("pg_dump not found (install the PostgreSQL client programs)")
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([pg_dump, "--schema-only", "--no-owner", "-d", conninfo],
                          capture_output=True, text=True, check=True, timeout=60).stdout


def reference_dump(factory: DatabaseFactory, metadata: sa.MetaData | None = None) -> str:
    """``pg_dump --schema-only`` of a database migrated to head with the reference backend."""
    with migrated_reference(factory, metadata) as url:
        return dump_schema(url)


def reference_pyproject(workdir: Path) -> Path:
    """Write ``workdir/pyproject.toml`` configuring schemafuzz the way this repository's own
    does (the reference backend under test, its Alembic project by absolute path), for
    children run outside the repository; return its path. Options on the child's command line
    (``--schemafuzz-models``, ``--schemafuzz-schema``, ...) override it as usual."""
    path = workdir / "pyproject.toml"
    path.write_text(
        "[tool.pytest.ini_options]\naddopts = \"-p no:cacheprovider\"\n\n"
        "[tool.schemafuzz]\nenabled = true\nmodels = \"backend.app.models\"\n"
        f"alembic_ini = \"{REPO / 'backend' / 'alembic.ini'}\"\nreference_backend = true\n")
    return path


def run_properties(workdir: Path, pg_server: DatabaseFactory, *args: str,
                   timeout: float = 600, env: Mapping[str, str] | None = None
                   ) -> subprocess.CompletedProcess[str]:
    """Run ``pytest`` on the product's properties in a child, against ``pg_server``, with its
    reports and example database kept in ``workdir`` (``dev`` profile); ``env`` adds variables
    to the child's environment. The repository root is on the child's ``PYTHONPATH`` (so
    ``-p bench._observe`` works). Returns the finished process; raises
    subprocess.TimeoutExpired after ``timeout`` seconds."""
    child_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
    child_env["SCHEMAFUZZ_PROFILE"] = "dev"
    child_env["CI"] = ""
    child_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(workdir), "-c", str(reference_pyproject(workdir)),
         "--schemafuzz-db-url", pg_server.admin_url.render_as_string(hide_password=False), *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=child_env,
    )


def broken_dump(workdir: Path, dump: str, alteration: str) -> Path:
    """Write the reference dump with ``alteration`` appended and return its path."""
    path = workdir / "broken.sql"
    path.write_text(dump + "\n-- the bug under test\nSET search_path = public;\n"
                    + alteration + "\n")
    return path


def copy_models_with(workdir: Path, old: str, new: str) -> str:
    """Copy the reference models into ``workdir`` as package ``broken_models`` with one text
    replacement made (which must occur), and return the module name to pass as
    --schemafuzz-models."""
    target = workdir / "broken_models"
    shutil.copytree(REPO / "backend" / "app" / "models", target)
    changed = 0
    for path in target.glob("*.py"):
        text = path.read_text()
        if old in text:
            path.write_text(text.replace(old, new))
            changed += text.count(old)
    assert changed, f"{old!r} not found in the reference models"
    return "broken_models"
