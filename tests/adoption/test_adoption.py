"""schemafuzz as a user gets it: the wheel, installed into a virtualenv of its own, run from
other projects' folders (never from this checkout).

The virtualenv is ``$SCHEMAFUZZ_ADOPTION_PYTHON``'s when set (``.ci/run`` prepares one with the
lowest versions pyproject.toml claims, so these tests prove the lower bounds); otherwise one is
made for the session from a wheel of this checkout, with the newest versions.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _wheel(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(folder), str(ROOT)], check=True, capture_output=True, timeout=600)
    return next(folder.glob("schemafuzz-*.whl"))


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from this checkout."""
    return _wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def user_python(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Iterator[Path]:
    """The python of a virtualenv where the wheel (and its dependencies) is installed."""
    prepared = os.environ.get("SCHEMAFUZZ_ADOPTION_PYTHON")
    if prepared:
        yield Path(prepared)
        return
    # Inside another project, as a virtualenv often is (.ci/run's lies in this checkout): its
    # configuration must not be taken for the configuration of the project the user runs in.
    elsewhere = tmp_path_factory.mktemp("another_project")
    (elsewhere / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npythonpath = ["."]\n\n'
        '[tool.schemafuzz]\nmodels = "not.these.models"\n')
    (elsewhere / "backend").mkdir()
    (elsewhere / "backend" / "__init__.py").write_text("")
    venv = elsewhere / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)],
                   check=True, capture_output=True, timeout=900)
    yield python


def _project(tmp_path: Path, name: str) -> Path:
    """A copy of the example project ``name`` in a folder of its own."""
    target = tmp_path / name
    shutil.copytree(HERE / name, target)
    return target


def _run(python: Path, cwd: Path, *command: str, **extra: str
         ) -> subprocess.CompletedProcess[str]:
    """Run a console script of the user's virtualenv (``pytest``, ``schemafuzz``) in ``cwd``,
    the way a user types it: the environment has nothing of this checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCHEMAFUZZ_", "PYTEST_", "PYTHON")) and k != "CI"}
    env.update(extra)
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([str(python.parent / command[0]), *command[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def test_the_wheel_installs_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"schemafuzz"}, top
    assert "schemafuzz/migrations/suite_env/env.py" in names  # the Alembic env the suite runs
    assert "schemafuzz/strategies/__init__.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "schemafuzz = schemafuzz.plugin" in text and "schemafuzz.cli:main" in text


@pytest.mark.parametrize("ci", ["", "true"])
def test_an_unrelated_project_keeps_its_hypothesis_settings(
        tmp_path: Path, user_python: Path, ci: str) -> None:
    project = _project(tmp_path, "plain_hypothesis")
    result = _run(user_python, project, "pytest", "-q", **({"CI": ci} if ci else {}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "schemafuzz" not in (result.stdout + result.stderr).lower()
    assert not (project / ".schemafuzz").exists()


def _replay_line(output: str) -> str:
    found = re.findall(r"^replay \(the failing example is saved and runs first\): (.+)$",
                       output, flags=re.MULTILINE)
    assert found, output
    return found[0]


def test_a_project_with_its_own_backend_package_gets_the_drift_and_a_working_replay(
        tmp_path: Path, user_python: Path) -> None:
    project = _project(tmp_path, "own_backend")
    first = _run(user_python, project, "pytest", "--schemafuzz", "-rfs")
    output = first.stdout + first.stderr
    assert first.returncode == 1, output
    assert "FINDING notes.title [varchar(80)" in output, output
    assert "tests/test_notes.py .." in output  # the project's own tests ran, undisturbed
    assert "no Alembic project configured" in output  # the migration properties are skipped
    report = (project / ".schemafuzz" / "VALIDATION_REPORT.md").read_text()
    assert "| SC-005 |" in report and "_not applicable_" in report
    command = _replay_line(output)
    assert command.startswith("pytest --schemafuzz ")
    again = _run(user_python, project, *shlex.split(command))
    assert again.returncode == 1, again.stdout + again.stderr
    assert "FINDING notes.title [varchar(80)" in again.stdout
    last = again.stdout.splitlines()[-1]
    assert "1 failed" in last and "passed" not in last, again.stdout  # that test alone


def test_the_command_reports_the_drift_with_exit_status_1(tmp_path: Path,
                                                          user_python: Path) -> None:
    project = _project(tmp_path, "own_backend")
    result = _run(user_python, project, "schemafuzz", "--models", "backend.models",
                  "--", "-q", "-k", "constraints")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FINDING notes.title [varchar(80)" in result.stdout
    assert "test_notes.py" not in result.stdout  # the command runs the properties only
    # Nothing of ours in the user's warnings: no plugin imported before pytest could rewrite
    # it, no Hypothesis storage read while the plugins load.
    assert "PytestAssertRewriteWarning" not in result.stdout + result.stderr, result.stdout
    assert "HypothesisSideeffectWarning" not in result.stdout + result.stderr, result.stdout
    helped = _run(user_python, project, "schemafuzz", "--help")
    assert helped.returncode == 0
    for option in ("--models", "--alembic-ini", "--alembic-env", "--schema", "--db-url",
                   "--profile"):
        assert option in helped.stdout
    bad = _run(user_python, project, "schemafuzz", "--models", "no.such.module")
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
