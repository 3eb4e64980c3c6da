"""Wall time of ``pytest properties`` serially and with ``-n 2`` (pytest-xdist), and the speed-up.

Usage (from the repository root)::

    python bench/parallel.py [--workers 2] [--db-url URL] [-- EXTRA PYTEST ARGS]

Each run is a child ``pytest properties -q`` started from the repository root. After each run the
bench checks that nothing is left behind:

* without ``--db-url`` each run starts its own throwaway server: the bench reads its
  port from the run's summary (``server: throwaway PostgreSQL ... on 127.0.0.1:PORT``) and checks
  that no ``postgres`` process of that server remains, that nothing listens on the port and that its
  ``schemafuzz-pg-*`` folder is gone;
* with ``--db-url`` the bench lists the ``schemafuzz_*`` databases on that server before
  and after each run: there must be no new one.

It prints figures and the leftovers it found; the times are not asserted (they depend on the
machine). Exit status: 0, or 1 when a run failed or left something behind.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SERVER_LINE = re.compile(r"server: throwaway PostgreSQL \S+ on 127\.0\.0\.1:(\d+)")
_SUMMARY = re.compile(r"^=*\s*(\d+ \w+.*?) in [\d.]+s", re.M)
_ERROR = re.compile(r"^ERROR .*$", re.M)


@dataclass
class Run:
    """One child run: its label, wall time, pytest summary and what it left behind."""

    label: str
    seconds: float
    returncode: int
    summary: str
    leftovers: list[str] = field(default_factory=list)


def _postgres_processes() -> dict[int, str]:
    """PID -> command line of every process whose command is ``postgres``."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and Path(argv[0].decode(errors="replace")).name.startswith("postgres"):
            found[int(entry.name)] = " ".join(a.decode(errors="replace") for a in argv if a)
    return found


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _suite_databases(db_url: str) -> set[str]:
    from sqlalchemy.engine import make_url

    from schemafuzz.harness.databases import suite_database_names

    return suite_database_names(make_url(db_url))


def _throwaway_leftovers(output: str, folders_before: set[Path]) -> list[str]:
    match = _SERVER_LINE.search(output)
    if match is None:
        return ["could not find the throwaway server's port in the run's output"]
    port = match.group(1)
    left = [f"postgres process {pid}: {cmd}" for pid, cmd in _postgres_processes().items()
            if re.search(rf"(-p\s*{port}\b|port={port}\b)", cmd)]
    if _port_open(int(port)):
        left.append(f"something still listens on 127.0.0.1:{port}")
    # Folders made during the run that survive it, and hold a server of this port.
    for folder in set(Path(tempfile.gettempdir()).glob("schemafuzz-pg-*")) - folders_before:
        opts = folder / "data" / "postmaster.opts"
        if not opts.exists() or f"-p {port}" in opts.read_text(errors="replace"):
            left.append(f"folder {folder}")
    return left


def _tests_run(summary: str) -> int:
    """Tests that ran to an outcome, from a pytest summary such as ``3 failed, 40 passed``."""
    return sum(int(n) for n, what in re.findall(r"(\d+) (\w+)", summary)
               if what in ("passed", "failed", "skipped", "xfailed", "xpassed"))


def run(label: str, extra: list[str], db_url: str | None) -> Run:
    """Run ``pytest properties`` with ``extra`` arguments; return the figures and leftovers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    args = [sys.executable, "-m", "pytest", "properties", "-q", "-p", "no:cacheprovider",
            *extra]
    if db_url:
        args += ["--schemafuzz-db-url", db_url]
    databases_before = _suite_databases(db_url) if db_url else set()
    folders_before = set(Path(tempfile.gettempdir()).glob("schemafuzz-pg-*"))
    began = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False)
    seconds = time.perf_counter() - began
    output = result.stdout + result.stderr
    summary = _SUMMARY.findall(output)
    time.sleep(0.5)  # let a stopping server's processes exit
    if db_url:
        leftovers = [f"database {name}"
                     for name in sorted(_suite_databases(db_url) - databases_before)]
    else:
        leftovers = _throwaway_leftovers(output, folders_before)
    if result.returncode not in (0, 1):  # 1: some property failed, which is still a run
        print(output[-3000:], file=sys.stderr)
    text = summary[-1] if summary else "no pytest summary"
    errors = _ERROR.findall(output)
    if errors:
        text += "; " + "; ".join(errors[:3])
    return Run(label, seconds, result.returncode, text, leftovers)


def main(argv: list[str] | None = None) -> int:
    """Run both configurations and print the table; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="2", help="value of -n for the parallel run")
    parser.add_argument("--db-url", default=None,
                        help="run against this server instead of throwaway ones")
    parser.add_argument("extra", nargs="*", help="further pytest arguments (after --)")
    options = parser.parse_args(argv)
    runs = [
        run("serial", [*options.extra, "-p", "no:xdist"], options.db_url),
        run(f"-n {options.workers}", [*options.extra, "-n", options.workers], options.db_url),
    ]
    print(f"pytest properties {' '.join(options.extra)}".rstrip())
    for item in runs:
        print(f"  {item.label:>8}: {item.seconds:7.1f} s wall  exit {item.returncode}  "
              f"({item.summary})")
    serial, parallel = runs
    if _tests_run(serial.summary) == _tests_run(parallel.summary) > 0:
        print(f"  speed-up: {serial.seconds / parallel.seconds:.2f}x "
              f"on {os.cpu_count()} cores")
    else:
        print("  speed-up: not comparable (the runs did not run the same number of tests)")
    clean = True
    for item in runs:
        for leftover in item.leftovers:
            clean = False
            print(f"  LEFT BEHIND by the {item.label} run: {leftover}")
    if clean:
        what = "no schemafuzz_* database" if options.db_url else "no postgres process or folder"
        print(f"  leftovers: none ({what} of either run remains)")
    failed = any(item.returncode not in (0, 1) for item in runs)
    return 1 if failed or not clean else 0


if __name__ == "__main__":
    sys.exit(main())
