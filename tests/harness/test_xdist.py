"""Under pytest-xdist: one server and one schema build, a database per worker, and nothing left
behind even when a worker dies."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from schemafuzz.collection import PACKAGE_DIR
from schemafuzz.harness import DatabaseFactory
from schemafuzz.xdist_control import machines_first

from .conftest import admin_text, run_pytest, suite_databases

RECORDS_DATABASE = """
import os, pytest
from pathlib import Path

@pytest.mark.parametrize("i", range(8))
def test_records(schemafuzz_db, i):
    name = schemafuzz_db.execute("SELECT current_database()").scalar()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "none")
    Path(f"seen-{worker}-{i}").write_text(name)
    assert schemafuzz_db.execute("SELECT to_regclass('built_by_template') IS NOT NULL").scalar()
"""

KILLS_ITS_WORKER = """
import os

def test_dies(schemafuzz_db):
    schemafuzz_db.execute("SELECT 1")
    os._exit(3)
"""


def test_each_worker_gets_its_own_copy_of_the_template(
        tmp_path: Path, isolated_server: DatabaseFactory) -> None:
    before = suite_databases(isolated_server.admin_url)
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE built_by_template (id int PRIMARY KEY);\n")
    result = run_pytest(tmp_path, RECORDS_DATABASE, "-n", "2", "--schemafuzz-db-url",
                        admin_text(isolated_server.admin_url),
                        "--schemafuzz-schema", f"sql:{schema}")
    assert result.returncode == 0, result.stdout + result.stderr
    seen: dict[str, set[str]] = {}
    for record in tmp_path.glob("seen-*"):
        worker = record.name.split("-")[1]
        seen.setdefault(worker, set()).add(record.read_text())
    assert set(seen) == {"gw0", "gw1"}, seen
    assert all(len(names) == 1 for names in seen.values())  # one database per worker...
    assert seen["gw0"] != seen["gw1"]  # ...and not shared
    assert suite_databases(isolated_server.admin_url) == before


def test_a_dead_worker_leaves_no_database(tmp_path: Path, isolated_server: DatabaseFactory) -> None:
    before = suite_databases(isolated_server.admin_url)
    result = run_pytest(tmp_path, KILLS_ITS_WORKER, "-n", "2", "--schemafuzz-db-url",
                        admin_text(isolated_server.admin_url), "--schemafuzz-schema", "metadata")
    assert result.returncode != 0
    assert "crashed" in result.stdout + result.stderr
    assert suite_databases(isolated_server.admin_url) == before


def test_workers_collect_the_stateful_machines_first() -> None:
    paths = [PACKAGE_DIR / "test_constraints.py", Path("/elsewhere/test_stateful.py"),
             PACKAGE_DIR / "test_stateful.py", PACKAGE_DIR / "test_timestamps.py",
             PACKAGE_DIR / "test_stateful.py"]
    items = [SimpleNamespace(path=path, name=str(i)) for i, path in enumerate(paths)]
    ordered = cast(list[pytest.Item], list(items))
    machines_first(ordered)
    # the package's machines first; a project's own test_stateful.py keeps its place
    assert [item.name for item in ordered] == ["2", "4", "0", "1", "3"]
