"""After a property fails: the command that replays it, as printed, from the directory the user
ran in (the failing example is saved in the example database and runs first), and, when the
failure sent statements to the database, a SQL script that reproduces it with ``psql`` alone,
in ``.schemafuzz/repro/`` of the project's rootdir (a test's script is replaced when it runs
again; a run of the whole suite removes the scripts of tests it did not have).

The command names the test by its path as seen from the working directory and repeats what the
run was told on its command line (``--schemafuzz`` and the ``--schemafuzz-*`` options); what
came from ``[tool.schemafuzz]`` is read again from the same pyproject.toml. A password in
``--schemafuzz-db-url`` is shown as ``***``: type it there, or use SCHEMAFUZZ_DATABASE_URL.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Generator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from .configuration import OPTIONS
from .harness import HarnessError, Sandbox, describe_url, guard
from .harness.recorder import repro_script_path, write_repro_script
from .subject import UnderTest, under_test_of

__all__ = ["how_to_build", "remove_scripts_of_other_runs", "replay_command", "repro_folder"]


def replay_command(item: pytest.Item) -> str:
    """The pytest command line that runs ``item`` again with this run's settings."""
    config = item.config
    configuration = under_test_of(config).configuration
    words = ["pytest"]
    if "enabled" in configuration.from_options:
        words.append("--schemafuzz")
    # The node id is relative to the rootdir, which need not be the working directory (and
    # need not hold the file): name the file by its path from the working directory.
    cwd = config.invocation_params.dir
    where = _from(cwd, item.path)
    if not item.path.is_relative_to(config.rootpath):
        # The property lives outside the project (in site-packages): pytest would look for its
        # configuration beside the file. Point it back at the project's.
        words += ["-c", _from(cwd, config.inipath)] if config.inipath is not None \
            else ["--rootdir", _from(cwd, config.rootpath)]
    words.append("::".join([where, *item.nodeid.split("::")[1:]]))
    for key, option in OPTIONS.items():
        if key not in configuration.from_options:
            continue
        raw = config.getoption(f"schemafuzz_{key}")
        value = ",".join(raw) if isinstance(raw, list) else str(raw)
        if key == "db_url":
            value = describe_url(make_url(value))  # a password is never printed: *** instead
        words += [option, value]
    return " ".join(shlex.quote(word) for word in words)


def _from(cwd: Path, path: Path) -> str:
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


def how_to_build(under_test: UnderTest) -> str:
    """Shell commands that build the schema under test in a database named ``repro``, the way
    this run built it."""
    spec = under_test.schema
    if spec.kind == "sql":
        return f"createdb repro && psql -d repro -f {spec.sql_path}"
    if spec.kind == "metadata":
        return (f"createdb repro && python -c \"import sqlalchemy as sa; "
                f"from schemafuzz.subject import metadata_of; import {under_test.models_name}"
                f" as m; metadata_of(m).create_all(sa.create_engine('postgresql:///repro'))\"")
    return (f"createdb repro && python -c \"from pathlib import Path; from sqlalchemy import "
            "make_url; from schemafuzz.migrations import MigrationRunner as R; "
            f"R(Path('{under_test.alembic_ini}'), make_url('postgresql:///repro'), "
            f"env='{under_test.alembic_env}').upgrade()\"")


_STARTED_KEY = pytest.StashKey[float]()


def repro_folder(config: pytest.Config) -> Path:
    """The folder of the run's repro scripts: ``.schemafuzz/repro`` of the rootdir."""
    return config.rootpath / ".schemafuzz" / "repro"


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_STARTED_KEY] = time.time()


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A test's script describes its last failure: removed when it runs again (and written
    # again if it fails). The scripts of tests this run leaves out are kept.
    repro_script_path(repro_folder(item.config), item.nodeid).unlink(missing_ok=True)


def remove_scripts_of_other_runs(config: pytest.Config) -> None:
    """Remove the repro scripts no test of this run wrote (of tests renamed or gone); called
    at the end of a run that ran the whole suite, so the folder never piles up."""
    started = config.stash.get(_STARTED_KEY, time.time())
    for old in repro_folder(config).glob("*.sql"):
        try:
            if old.stat().st_mtime < started:
                old.unlink()
        except OSError:
            pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    refused = guard.refusals()
    if refused:
        # The guard refused a connection: nothing else this run reports can be trusted, and
        # the app's code may have caught the refusal. One line, and the run stops.
        line = f"schemafuzz: {refused[0]}"
        if report.failed or report.when == "call":
            report.outcome = "failed"
            report.longrepr = line
        item.session.shouldstop = line
        return report
    sandbox = getattr(item, "funcargs", {}).get("schemafuzz_db")
    if report.when != "call" or not report.failed or not isinstance(sandbox, Sandbox):
        return report
    statements = sandbox.recorder.failing
    if statements is None:
        statements = sandbox.recorder.current
    replay = f"replay (the failing example is saved and runs first): {replay_command(item)}"
    if not statements:  # nothing reached the database: no script to replay it with
        report.sections.append(("schemafuzz replay", replay))
        return report
    under_test = under_test_of(item.config)
    try:
        path = write_repro_script(
            repro_folder(item.config), item.nodeid, statements,
            how_to_build(under_test), str(call.excinfo.value) if call.excinfo else "",
        )
    except (OSError, HarnessError) as error:
        report.sections.append(("schemafuzz replay", f"could not write the SQL repro: {error}"))
        return report
    report.sections.append((
        "schemafuzz replay",
        f"{replay}\n"
        f"reproduce with psql alone ({len(statements)} statements): "
        f"{_from(item.config.invocation_params.dir, path)}",
    ))
    return report

