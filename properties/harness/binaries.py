"""Locating the PostgreSQL server binaries (``initdb``, ``pg_ctl``, ``postgres``)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["find_server_bindir"]

_SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_USUAL_FOLDERS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL, Fedora (PGDG)
    "/usr/local/pgsql/bin",  # source builds
    "/opt/homebrew/opt/postgresql@*/bin",  # macOS, Apple silicon
    "/usr/local/opt/postgresql@*/bin",  # macOS, Intel
    "/Applications/Postgres.app/Contents/Versions/*/bin",
)


def _has_server_programs(folder: Path) -> bool:
    return all((folder / name).is_file() and os.access(folder / name, os.X_OK)
               for name in _SERVER_PROGRAMS)


def _version_key(folder: Path) -> tuple[int, ...]:
    digits = [int(part) for part in folder.parts if part.isdigit()]
    for part in folder.parts:
        tail = part.rsplit("@", 1)[-1].rsplit("-", 1)[-1]
        if tail.isdigit():
            digits.append(int(tail))
    return tuple(digits)


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip())


def find_server_bindir() -> Path | None:
    """Return the folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or None.

    Looks, in order, at ``SCHEMAFUZZ_PG_BINDIR``, the folder of ``initdb`` on PATH (symlinks
    resolved, since Debian links only some programs into /usr/bin), ``pg_config --bindir`` and
    the usual install folders (newest version first). Never raises.
    """
    candidates: list[Path] = []
    override = os.environ.get("SCHEMAFUZZ_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)
    from_pg_config = _pg_config_bindir()
    if from_pg_config is not None:
        candidates.append(from_pg_config)
    for pattern in _USUAL_FOLDERS:
        found = sorted((Path(p) for p in glob.glob(pattern)), key=_version_key, reverse=True)
        candidates.extend(found)
    for folder in candidates:
        if _has_server_programs(folder):
            return folder
    return None
