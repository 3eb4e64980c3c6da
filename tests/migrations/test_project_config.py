"""One way to build a project's Alembic Config (``schemafuzz.migrations.project_config``): the
project's paths work from any working directory, in every spelling Alembic has accepted, and a
project that cannot be loaded is one line naming the file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from schemafuzz.migrations import AlembicProjectError, MigrationRunner, project_config

URL = make_url("postgresql+psycopg2://nobody@127.0.0.1:1/none")

ENV_PY = """
from alembic import context
config = context.config
context.configure(connection=config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
"""

FAILING_ENV_PY = """
import os
from alembic import context
url = os.environ["SOME_APP_DATABASE_URL"]
"""


def _revision(rev: str, down: str | None, body: str = "pass", header: str = "") -> str:
    return (f'"""{rev}"""\n{header}\nrevision = "{rev}"\ndown_revision = {down!r}\n'
            f"def upgrade():\n    {body}\n\ndef downgrade():\n    pass\n")


def _write_project(root: Path, ini_lines: list[str], *, env_py: str = ENV_PY,
                   extra_versions: str | None = None) -> Path:
    """An app folder: alembic.ini, migrations/env.py, migrations/versions/r1 (imports the app's
    own module ``appmodule``, found only through prepend_sys_path), optional second folder."""
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(env_py)
    (root / "appmodule.py").write_text("VALUE = 1\n")
    (root / "migrations" / "versions" / "r1.py").write_text(
        _revision("r1", None, header="import appmodule  # the app's own code, via sys.path"))
    if extra_versions:
        (root / extra_versions).mkdir(parents=True)
        (root / extra_versions / "r2.py").write_text(_revision("r2", "r1"))
    ini = root / "alembic.ini"
    ini.write_text("[alembic]\n" + "\n".join(ini_lines) + "\n")
    return ini


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run from a folder that is not the app's, and forget the app's module afterwards."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield folder
    sys.modules.pop("appmodule", None)


# The line Alembic's own template wrote for years, inline comment included.
TEMPLATE_SEPARATOR = "version_path_separator = os  # Use os.pathsep. Default configuration."


@pytest.mark.parametrize("env", ["suite", "project"])
@pytest.mark.parametrize("lines", [
    ["script_location = migrations", "prepend_sys_path = .", TEMPLATE_SEPARATOR,
     f"version_locations = migrations/versions{os.pathsep}more_versions"],
    ["script_location = migrations", "prepend_sys_path = .", "path_separator = os",
     f"version_locations = %(here)s/migrations/versions{os.pathsep}more_versions"],
    ["script_location = migrations", "prepend_sys_path = .",
     "version_locations = migrations/versions more_versions"],  # no separator: spaces
    ["script_location = ./migrations", "prepend_sys_path = .", "version_path_separator = ;",
     "version_locations = migrations/versions;./more_versions"],
], ids=["template-comment", "path_separator", "legacy-spaces", "semicolon"])
def test_relative_paths_work_from_any_directory(tmp_path: Path, elsewhere: Path,
                                                lines: list[str], env: Any) -> None:
    ini = _write_project(tmp_path / "app", lines, extra_versions="more_versions")
    runner = MigrationRunner(ini, URL, env=env)
    assert runner.revisions() == ["r1", "r2"]
    assert str((tmp_path / "app").resolve()) in sys.path  # prepend_sys_path, from the ini's folder
    cfg = runner.config()
    assert cfg.get_main_option("prepend_sys_path") is None  # applied once, not per command


def test_script_location_relative_to_the_working_directory_still_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `alembic -c backend/alembic.ini` run from the repository root, the ini saying
    # `script_location = backend/migrations`: relative to the working directory, as Alembic
    # reads it.
    app = tmp_path / "backend"
    ini = _write_project(app, ["script_location = backend/migrations", "prepend_sys_path = ."])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        assert MigrationRunner(ini, URL).revisions() == ["r1"]
    finally:
        sys.modules.pop("appmodule", None)


@pytest.mark.parametrize(("lines", "message"), [
    (["script_location = nowhere"], r"script_location nowhere not found \(looked in .*app"),
    (["sqlalchemy.url = x"], "no script_location in its \\[alembic\\] section"),
    (["script_location = migrations", "path_separator = pipe"],
     "path_separator = 'pipe' is not understood"),
    (["script_location = migrations", "version_locations = migrations/gone"],
     "version_locations entry migrations/gone not found"),
])
def test_a_broken_ini_is_one_line_naming_it(tmp_path: Path, elsewhere: Path, lines: list[str],
                                            message: str) -> None:
    ini = _write_project(tmp_path / "app", lines)
    with pytest.raises(AlembicProjectError, match=message) as caught:
        MigrationRunner(ini, URL).revisions()
    assert str(ini) in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_ini_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(AlembicProjectError, match="no such file; point alembic_ini"):
        project_config(tmp_path / "alembic.ini")


def test_a_revision_that_cannot_be_imported_is_named(tmp_path: Path, elsewhere: Path) -> None:
    ini = _write_project(tmp_path / "app", ["script_location = migrations",
                                            "prepend_sys_path = ."])
    (tmp_path / "app" / "migrations" / "versions" / "r2.py").write_text(
        _revision("r2", "r1", header="import no_such_module_anywhere"))
    with pytest.raises(AlembicProjectError) as caught:
        MigrationRunner(ini, URL).revisions()
    text = str(caught.value)
    assert text.startswith(str(tmp_path / "app" / "migrations" / "versions" / "r2.py")), text
    assert "No module named 'no_such_module_anywhere'" in text and "\n" not in text


def test_a_failing_project_env_names_the_way_out(tmp_path: Path, schemafuzz_server: Any) -> None:
    ini = _write_project(tmp_path / "app", ["script_location = %(here)s/migrations",
                                            "prepend_sys_path = %(here)s"],
                         env_py=FAILING_ENV_PY)
    url = schemafuzz_server.create_database()
    runner = MigrationRunner(ini, url, env="project")
    try:
        with pytest.raises(AlembicProjectError) as caught:
            runner.upgrade("head")
        text = str(caught.value)
        assert text.startswith(str(tmp_path / "app" / "migrations" / "env.py")), text
        assert "KeyError: 'SOME_APP_DATABASE_URL'" in text
        assert "the suite's env, the default, runs your revisions without it" in text
        assert MigrationRunner(ini, url).upgrade("head") >= 0  # the suite's env needs no setting
    finally:
        runner.dispose()
        sys.modules.pop("appmodule", None)
        schemafuzz_server.drop_database(url)
