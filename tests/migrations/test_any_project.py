"""`pytest properties/test_migrations.py` runs on any Alembic project named by
--schemafuzz-alembic-ini."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.migrations.project import write_project

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "properties" / "test_migrations.py"


def _run_suite(tmp_path: Path, schemafuzz_server, **replace) -> subprocess.CompletedProcess[str]:
    project = write_project(tmp_path / "project", replace=replace or None)
    (tmp_path / "throwaway_models.py").write_text(
        "from tests.migrations.project import models_metadata\nmetadata = models_metadata()\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    env.pop("SCHEMAFUZZ_DATABASE_URL", None)
    admin = schemafuzz_server.admin_url.render_as_string(hide_password=False)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(SUITE), "-q", "-rfEs", "-c",
         str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), "--schemafuzz-db-url", admin,
         "--schemafuzz-models", "throwaway_models",
         "--schemafuzz-alembic-ini", str(project.ini)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_suite_passes_on_a_good_throwaway_project(tmp_path, schemafuzz_server):
    result = _run_suite(tmp_path, schemafuzz_server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 passed" in result.stdout
    assert "migration timings" in result.stdout and "upgrade head:" in result.stdout
    timings = json.loads((tmp_path / ".schemafuzz" / "migrations.json").read_text())
    recorded = timings[str(tmp_path / "project" / "alembic.ini")]
    assert {"upgrade head", "downgrade base"} <= set(recorded)


def test_suite_names_the_drift_on_a_broken_throwaway_project(tmp_path, schemafuzz_server):
    result = _run_suite(tmp_path, schemafuzz_server, r1_users_tasks=(
        'sa.ForeignKey("users.id", ondelete="CASCADE")', 'sa.ForeignKey("users.id")'))
    assert result.returncode == 1, result.stdout + result.stderr
    # Our catalogue comparison and pytest-alembic's `alembic check` both catch it; the
    # history itself (heads, up/down, data) is fine.
    assert "2 failed, 7 passed" in result.stdout
    assert "::test_schema_equals_models - " in result.stdout
    assert "::test_pytest_alembic_model_definitions_match_ddl - " in result.stdout
    assert ("tasks.user_id: foreign key 'tasks_user_id_fkey' differs: models has FOREIGN KEY "
            "(user_id) REFERENCES users(id) ON DELETE CASCADE, migrations has FOREIGN KEY "
            "(user_id) REFERENCES users(id) [revision r1_users_tasks (users and tasks)]"
            ) in result.stdout


def test_a_revision_failing_on_an_empty_database_is_one_finding(tmp_path, schemafuzz_server):
    # r2 calls a function that does not exist: the schema cannot be built. One test reports it;
    # every other property that needs an upgraded database is skipped as blocked by it.
    result = _run_suite(tmp_path, schemafuzz_server, r2_notes=(
        "def upgrade():\n", "def upgrade():\n    op.execute('SELECT no_such_function()')\n"))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "1 failed, 1 passed, 7 skipped" in result.stdout, output
    assert "::test_upgrade_head_from_empty - Failed: FINDING revision r2_notes" in result.stdout
    assert ("FINDING revision r2_notes (notes with a kind enum and an updated_at trigger) fails "
            "on an empty database: ProgrammingError: "
            "(psycopg2.errors.UndefinedFunction) function no_such_function() does not exist"
            ) in result.stdout, result.stdout
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped and all("blocked by FINDING revision r2_notes" in line for line in skipped)
    assert "(reported by ::test_upgrade_head_from_empty)" in skipped[0]
