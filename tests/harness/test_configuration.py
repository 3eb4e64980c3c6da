"""Configuration: opt-in, read from [tool.schemafuzz] and --schemafuzz-* options, and every bad
setting refused before any server starts, in one line with the fix, writing no report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

PLAIN_TEST = """
from hypothesis import given, settings, strategies as st

def test_settings_are_hypothesis_defaults():
    assert settings.get_current_profile_name() == "default"
    assert settings.default.max_examples == 100

@given(st.integers())
def test_a_property(n):
    assert n == n
"""

ONLY_A_TEST = "def test_nothing():\n    pass\n"


def _child(project: Path, pyproject: str, *args: str, source: str = ONLY_A_TEST
           ) -> subprocess.CompletedProcess[str]:
    """Run pytest in ``project`` (a pyproject.toml with ``pyproject`` and one test module)."""
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(pyproject)
    (project / "test_child.py").write_text(source)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCHEMAFUZZ_", "PYTEST_")) and k != "CI"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_installed_but_not_asked_for_it_does_nothing(tmp_path: Path) -> None:
    result = _child(tmp_path, "", "-q", source=PLAIN_TEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "schemafuzz" not in (result.stdout + result.stderr).lower()
    assert not (tmp_path / ".schemafuzz").exists()
    helped = _child(tmp_path, "", "--help")
    assert "--schemafuzz-models=MODULE" in helped.stdout
    for generic in ("--models", "--schema", "--db-url", "--alembic-ini", "--alembic-env"):
        assert f"  {generic}=" not in helped.stdout, generic


def test_a_table_is_only_checked_in_runs_that_use_schemafuzz(tmp_path: Path) -> None:
    result = _child(tmp_path, '[tool.schemafuzz]\nmodles = 3\n', "-q", source=PLAIN_TEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "schemafuzz" not in (result.stdout + result.stderr).lower()


def test_its_properties_do_not_change_the_projects_own_hypothesis_tests(
        tmp_path: Path) -> None:
    pyproject = ('[tool.schemafuzz]\nenabled = true\nmodels = "backend.app.models"\n'
                 'schema = "metadata"\n')
    result = _child(tmp_path, pyproject, "test_child.py", source=PLAIN_TEST)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "schemafuzz: profile=dev" in result.stdout  # active: the header says what it tests


_MODELS = '[tool.schemafuzz]\nmodels = "backend.app.models"\nschema = "metadata"\n'

BAD = {
    "unknown profile": (_MODELS, ["--schemafuzz-profile", "nope"],
                        "profile 'nope'", "use dev, ci, nightly"),
    "models not importable": (_MODELS, ["--schemafuzz-models", "does.not.exist"],
                              "models 'does.not.exist'", "No module named 'does'"),
    "no table models": (_MODELS, ["--schemafuzz-models", "json"],
                        "models 'json' defines no table models", "table=True"),
    "no models at all": ("[tool.schemafuzz]\nschema = \"metadata\"\n", [],
                         "no models configured", "--schemafuzz-models MODULE"),
    "missing alembic.ini": (_MODELS, ["--schemafuzz-alembic-ini", "nowhere/alembic.ini"],
                            "nowhere/alembic.ini", "no such file"),
    "missing SQL file": (_MODELS, ["--schemafuzz-schema", "sql:missing.sql"],
                         "sql:missing.sql", "no such file"),
    "unknown schema": (_MODELS, ["--schemafuzz-schema", "nope"],
                       "'nope' is not understood", "migrations, metadata or sql:PATH"),
    "migrations without Alembic": ('[tool.schemafuzz]\nmodels = "backend.app.models"\n',
                                   ["--schemafuzz-schema", "migrations"],
                                   "needs an Alembic project", "alembic_ini"),
    "not a PostgreSQL URL": (_MODELS, ["--schemafuzz-db-url", "mysql://me:secret@db/app"],
                             "only PostgreSQL is supported", "postgresql://"),
    "unknown key": (_MODELS + "modles = \"x\"\n", [], "unknown key 'modles'", "known keys"),
    "a bad value type": ('[tool.schemafuzz]\nmodels = 3\n', [], "models in [tool.schemafuzz]",
                         "non-empty string"),
    "a negative shrink budget": (_MODELS, ["--schemafuzz-shrink-seconds", "-1"],
                                 "--schemafuzz-shrink-seconds must be a number of seconds >= 0",
                                 "not '-1'"),
    "a shrink budget that is not a number": (_MODELS + 'shrink_seconds = "soon"\n', [],
                                             "shrink_seconds must be a number of seconds",
                                             "not 'soon'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_setting_is_one_line_before_any_server_starts(tmp_path: Path, case: str) -> None:
    pyproject, args, *needles = BAD[case]
    result = _child(tmp_path, pyproject, "--schemafuzz", *args)
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("ERROR: schemafuzz: "), output
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert output.count("No module named") <= 1
    assert "secret" not in output
    assert "PostgreSQL" not in output.replace("only PostgreSQL is supported", "")  # no server
    assert not (tmp_path / ".schemafuzz").exists()  # no report written


def test_without_an_alembic_project_the_migration_checks_are_skipped_not_failed(
        tmp_path: Path) -> None:
    pyproject = ('[tool.schemafuzz]\nmodels = "backend.app.models"\n'
                 'schema = "metadata"\n')
    result = _child(tmp_path, pyproject, "-q", "-rs", "--rootdir", ".", "-c", "pyproject.toml",
                    str(ROOT / "properties" / "test_migrations.py"),
                    str(ROOT / "properties" / "test_schema.py"),
                    str(ROOT / "properties" / "test_timestamps.py"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    skipped = [line for line in output.splitlines()
               if line.startswith("SKIPPED") and "test_migrations.py" in line]
    assert skipped and all("no Alembic project configured" in line for line in skipped), output
    assert "FAILED" not in output and "ERROR" not in output
    assert " passed" in output.splitlines()[-1]  # the other properties ran on create_all
    # Three of the property modules: a partial run, whose reports go beside the complete ones.
    partial = tmp_path / ".schemafuzz" / "partial"
    report = json.loads((partial / "VALIDATION_REPORT.json").read_text())
    verdicts = {c["id"]: c for c in report["criteria"]}
    for criterion in ("SC-005", "SC-010"):
        assert verdicts[criterion]["verdict"] == "not applicable", verdicts[criterion]
        assert verdicts[criterion]["why"] == "no Alembic project configured"
