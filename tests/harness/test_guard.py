"""The connection guard: a run's processes reach only the suite's own databases.

Each refusal is checked in a child pytest run, as a user meets it: the run ends with one line
naming the file and line that tried, the target with its password masked, and what to do; and
nothing reached the target (a listening socket stands in for it and counts what arrives)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from schemafuzz.harness import DatabaseFactory

from .conftest import ROOT, admin_text, run_pytest, suite_databases


@dataclass
class Listener:
    """A TCP socket on 127.0.0.1 standing in for a foreign database; counts connections."""

    port: int
    accepted: list[bytes] = field(default_factory=list)

    def url(self, driver: str = "postgresql") -> str:
        return f"{driver}://app:prod-secret@127.0.0.1:{self.port}/app"


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    found = Listener(server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            connection.settimeout(1)
            try:
                found.accepted.append(connection.recv(64))
            except OSError:
                found.accepted.append(b"")
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield found
    stop.set()
    thread.join(timeout=5)
    server.close()


def _the_line(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if "schemafuzz: " in line]
    assert lines, output
    return lines[0]


PSYCOPG2 = """
import os, psycopg2

def test_reaches_out():
    psycopg2.connect(os.environ["ELSEWHERE"])
"""

PSYCOPG2_CAUGHT = """
import os, psycopg2

def test_swallows_the_refusal():
    try:
        psycopg2.connect(os.environ["ELSEWHERE"])
    except Exception:
        pass

def test_never_runs():
    pass
"""

ENGINE = """
import os
import sqlalchemy as sa

def test_reaches_out():
    engine = sa.create_engine(os.environ["ELSEWHERE"].replace("postgresql", "postgresql+psycopg2"))
    with engine.connect():
        pass
"""

PSQL = """
import os, subprocess

def test_reaches_out():
    subprocess.run(["psql", os.environ["ELSEWHERE"], "-c", "DROP TABLE customers"], check=False)
"""

SHELL = """
import os

def test_reaches_out():
    os.system("PGPASSWORD=x pg_dump -h 127.0.0.1 -p " + os.environ["PORT"] + " app > dump.sql")
"""

PSYCOPG3 = """
import os, psycopg

def test_reaches_out():
    psycopg.connect(os.environ["ELSEWHERE"])
"""

ASYNCPG = """
import asyncio, os, asyncpg

def test_reaches_out():
    asyncio.run(asyncpg.connect(os.environ["ELSEWHERE"]))
"""


@pytest.mark.parametrize(("source", "needle"), [
    (PSYCOPG2, "test_child.py:5 tried to connect to"),
    (PSYCOPG3, "test_child.py:5 tried to connect to"),
    (ASYNCPG, "test_child.py:5 tried to connect to"),
    (PSQL, "test_child.py:5 starts `psql` aimed at"),
    (SHELL, "test_child.py:5 starts `pg_dump` aimed at"),
], ids=["psycopg2", "psycopg", "asyncpg", "psql", "shell"])
def test_a_connection_elsewhere_is_refused_before_anything_is_sent(
        tmp_path: Path, listener: Listener, source: str, needle: str) -> None:
    result = run_pytest(tmp_path, source, "--schemafuzz-schema", "metadata",
                        env={"ELSEWHERE": listener.url(), "PORT": str(listener.port)})
    line = _the_line(result)
    assert needle in line, line
    assert f"127.0.0.1:{listener.port}/app" in line, line
    assert "prod-secret" not in result.stdout + result.stderr
    assert "only its own databases" in line and "connect lazily" in line, line
    assert listener.accepted == [], "the connection reached the target"
    assert not (tmp_path / "dump.sql").exists() or (tmp_path / "dump.sql").read_text() == ""


def test_a_sqlalchemy_engine_is_refused(tmp_path: Path, listener: Listener) -> None:
    result = run_pytest(tmp_path, ENGINE, env={"ELSEWHERE": listener.url()})
    line = _the_line(result)
    assert "test_child.py:7 tried to connect to postgresql://app:***@127.0.0.1:" in line, line
    assert listener.accepted == []


def test_a_caught_refusal_still_ends_the_run(tmp_path: Path, listener: Listener) -> None:
    result = run_pytest(tmp_path, PSYCOPG2_CAUGHT, env={"ELSEWHERE": listener.url()})
    line = _the_line(result)
    assert "test_child.py:6 tried to connect to" in line, line
    assert "test_never_runs" not in result.stdout.replace("test_child.py::", "")
    assert "1 failed" in result.stdout and "passed" not in result.stdout, result.stdout
    assert listener.accepted == []


IMPORT_TIME = """
import checks_at_import  # noqa: F401

def test_never_runs():
    pass
"""

CHECKS_AT_IMPORT = """
import os
import sqlalchemy as sa

engine = sa.create_engine(os.environ["ELSEWHERE"].replace("postgresql", "postgresql+psycopg2"))
with engine.connect() as connection:  # "is the database up?" at start-up
    connection.exec_driver_sql("SELECT 1")
"""


def test_a_module_connecting_at_import_is_named(tmp_path: Path, listener: Listener) -> None:
    (tmp_path / "checks_at_import.py").write_text(CHECKS_AT_IMPORT)
    result = run_pytest(tmp_path, IMPORT_TIME, env={
        "ELSEWHERE": listener.url(), "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "checks_at_import.py:6 tried to connect to postgresql://app:***@127.0.0.1" in output
    assert "prod-secret" not in output
    assert listener.accepted == []


EVERYTHING_OURS = """
import os, subprocess
import psycopg2
import sqlalchemy as sa
from schemafuzz.harness.binaries import find_server_bindir

def test_the_schema_database(schemafuzz_db):
    assert schemafuzz_db.execute("SELECT 1").scalar() == 1

def test_a_fresh_database_with_every_client(schemafuzz_fresh_db_url, schemafuzz_server):
    engine = sa.create_engine(schemafuzz_fresh_db_url)
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x int)")
        connection.commit()
    engine.dispose()
    conninfo = schemafuzz_fresh_db_url.set(drivername="postgresql").render_as_string(
        hide_password=False)
    psycopg2.connect(conninfo).close()
    psql = subprocess.run([str(find_server_bindir() / "psql"), "-X", "-At", "-d", conninfo,
                           "-c", "SELECT count(*) FROM t"], capture_output=True, text=True)
    assert psql.returncode == 0 and psql.stdout.strip() == "0", psql.stderr
    extra = schemafuzz_server.create_database()
    sa.create_engine(extra).connect().close()
    schemafuzz_server.drop_database(extra)
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_everything_the_suite_does_is_allowed(
        tmp_path: Path, isolated_server: DatabaseFactory, workers: tuple[str, ...]) -> None:
    before = suite_databases(isolated_server.admin_url)
    for server in ((), ("--schemafuzz-db-url", admin_text(isolated_server.admin_url))):
        result = run_pytest(tmp_path, EVERYTHING_OURS, *workers, *server,
                            "--schemafuzz-schema", "metadata")
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "2 passed" in output and "guard refused" not in output, output
    assert suite_databases(isolated_server.admin_url) == before


def test_a_refusal_in_an_xdist_worker_stops_the_run(tmp_path: Path, listener: Listener) -> None:
    result = run_pytest(tmp_path, PSYCOPG2_CAUGHT, "-n", "2", "--schemafuzz-schema", "metadata",
                        env={"ELSEWHERE": listener.url()})
    line = _the_line(result)
    assert "test_child.py:6 tried to connect to" in line, line
    assert "prod-secret" not in result.stdout + result.stderr
    assert listener.accepted == []
