"""Broken variants of the reference schema, built from a schema-only dump of the migrated
reference database with one ALTER appended, and a way to run the properties against them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from properties.harness import DatabaseFactory, SchemaSpec, build_schema
from properties.harness.binaries import find_server_bindir

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def reference_dump(pg_server: DatabaseFactory, target_metadata: object) -> Iterator[str]:
    """``pg_dump --schema-only`` of a database migrated to head with the reference backend."""
    import sqlalchemy as sa

    assert isinstance(target_metadata, sa.MetaData)
    url = pg_server.create_database()
    try:
        build_schema(url, SchemaSpec("migrations"), target_metadata,
                     REPO / "backend" / "alembic.ini")
        bindir = find_server_bindir()
        assert bindir is not None
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        dump = subprocess.run([str(bindir / "pg_dump"), "--schema-only", "--no-owner",
                               "-d", conninfo], capture_output=True, text=True, check=True,
                              timeout=60).stdout
    finally:
        pg_server.drop_database(url)
    yield dump


def run_properties(workdir: Path, pg_server: DatabaseFactory, *args: str,
                   timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``pytest`` on the product's properties in a child, against ``pg_server``, with its
    reports and example database kept in ``workdir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
    env["SCHEMAFUZZ_PROFILE"] = "dev"
    env["CI"] = ""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
         str(workdir), "-c", os.devnull,
         "--db-url", pg_server.admin_url.render_as_string(hide_password=False), *args],
        cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env,
    )


def broken_dump(workdir: Path, dump: str, alteration: str) -> Path:
    """Write the reference dump with ``alteration`` appended and return its path."""
    path = workdir / "broken.sql"
    path.write_text(dump + "\n-- the bug under test\nSET search_path = public;\n"
                    + alteration + "\n")
    return path


def copy_models_with(workdir: Path, old: str, new: str) -> str:
    """Copy the reference models into ``workdir`` as package ``broken_models`` with one text
    replacement made (which must occur), and return the module name to pass as --models."""
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
