"""A failure is saved, replayed first on the next run, and reproducible with psql alone."""

from __future__ import annotations

import subprocess
from pathlib import Path

import sqlalchemy as sa

from schemafuzz.harness import DatabaseFactory
from schemafuzz.harness.binaries import find_server_bindir

from .conftest import admin_text, run_pytest

SCHEMA = "CREATE TABLE notes (id serial PRIMARY KEY, body varchar(5) NOT NULL);\n"

# Believes (wrongly) that the column takes any text; logs every example it tries.
TOO_TRUSTING = """
from pathlib import Path
from hypothesis import given, strategies as st
from schemafuzz import profile_settings

@profile_settings()
@given(st.text(alphabet="abc", max_size=12))
def test_notes_take_any_text(schemafuzz_db, body):
    with Path("tried.log").open("a") as log:
        log.write(repr(body) + "\\n")
    state = schemafuzz_db.try_execute("INSERT INTO notes (body) VALUES (:b)", {"b": body})
    assert state is None, f"the database refused {body!r} with SQLSTATE {state}"
"""


def _tried(workdir: Path) -> list[str]:
    return (workdir / "tried.log").read_text().splitlines()


def test_failure_is_replayed_first_and_reproducible_with_psql(
        tmp_path: Path, schemafuzz_server: DatabaseFactory,
        schemafuzz_fresh_db_url: sa.engine.URL) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA)
    args = ("--schemafuzz-db-url", admin_text(schemafuzz_server.admin_url),
            "--schemafuzz-schema", f"sql:{schema}")

    first = run_pytest(tmp_path, TOO_TRUSTING, *args)
    assert first.returncode == 1, first.stdout
    assert "SQLSTATE 22001" in first.stdout
    printed = next(line for line in first.stdout.splitlines() if line.startswith("replay "))
    assert ": pytest test_child.py::test_notes_take_any_text --schemafuzz-schema sql:" in printed
    assert "--schemafuzz-db-url postgresql" in printed
    shrunk = "'aaaaaa'"  # the minimal failing example: one character over the limit
    assert f"the database refused {shrunk}" in first.stdout
    (tmp_path / "tried.log").unlink()
    stale = tmp_path / ".schemafuzz" / "repro" / "test_child.py__an_earlier_failure.sql"
    stale.write_text("-- from a run before\n")

    second = run_pytest(tmp_path, TOO_TRUSTING, *args)
    assert not stale.exists(), "the last run's repro scripts must be replaced, not pile up"
    assert second.returncode == 1
    assert _tried(tmp_path)[0] == shrunk, "the saved example did not run first"

    repro = tmp_path / ".schemafuzz" / "repro" / "test_child.py__test_notes_take_any_text.sql"
    script = repro.read_text()
    assert "INSERT INTO notes (body) VALUES ('aaaaaa');" in script
    bindir = find_server_bindir()
    assert bindir is not None
    conninfo = schemafuzz_fresh_db_url.set(drivername="postgresql").render_as_string(
        hide_password=False)
    subprocess.run([str(bindir / "psql"), "-X", "-q", "-d", conninfo, "-f", str(schema)],
                   check=True, capture_output=True)
    replay = subprocess.run([str(bindir / "psql"), "-X", "-d", conninfo, "-f", str(repro)],
                            capture_output=True, text=True, timeout=60)
    assert "22001" in replay.stderr and "value too long" in replay.stderr, replay.stderr
