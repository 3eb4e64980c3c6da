"""The one way to build an Alembic ``Config`` for the project under test, from any directory.

Alembic reads a project's paths relative to the *working directory* (``script_location``,
``version_locations``, ``prepend_sys_path``), and how it splits the lists changed across
versions (``version_path_separator``, then ``path_separator``; inline ``# comments`` kept in
the value by older versions). :func:`project_config` reads them the way the project meant
them, from the ini's folder first, then the working directory, and writes them back absolute,
split one way (``os.pathsep``), so every Alembic version from the lowest supported up reads the
same project wherever the suite runs. ``%(here)s`` is Alembic's own and works as it always has.

Every problem loading the project is an :class:`AlembicProjectError`: one line naming the file,
the error and the remedy.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import URL, Connection

from schemafuzz.harness.errors import HarnessError

from .environment import SUITE_ENV_DIR, AlembicEnv

__all__ = ["AlembicProjectError", "env_py_of", "one_line", "project_config", "versions_of"]

_SEPARATORS = {"space": " ", "newline": "\n", "os": os.pathsep, ":": ":", ";": ";"}
_LEGACY_VERSIONS_SPLIT = re.compile(r", *|(?: +)")  # Alembic's split with no separator set
_LEGACY_SYS_PATH_SPLIT = re.compile(r", *|(?: +)|:")
_INLINE_COMMENT = re.compile(r"\s+#.*$")


class AlembicProjectError(HarnessError):
    """The Alembic project under test cannot be loaded; one line with the file and the fix."""


def one_line(error: BaseException) -> str:
    """The error's text on one line, at most 300 characters (its repr when it has no text)."""
    text = " ".join(str(error).split())
    return text[:300] if text else repr(error)


def _option(cfg: Config, name: str) -> str | None:
    value = cfg.get_main_option(name)
    if value is None:
        return None
    value = _INLINE_COMMENT.sub("", value).strip()
    return value or None


def _is_resource(location: str) -> bool:
    """``package:folder``, Alembic's form for a script location inside a package."""
    return ":" in location and not os.path.isabs(location) and not re.match(r"^\w:[\\/]",
                                                                             location)


def _resolve(ini: Path, location: str, what: str) -> str:
    if _is_resource(location):
        return location
    path = Path(location).expanduser()
    if path.is_absolute():
        if not path.exists():
            raise AlembicProjectError(f"{ini}: {what} {location} does not exist")
        return str(path)
    for base in (ini.parent, Path.cwd()):
        if (base / path).exists():
            return str((base / path).resolve())
    raise AlembicProjectError(
        f"{ini}: {what} {location} not found (looked in {ini.parent} and in the working "
        f"directory {Path.cwd()}); fix the path in the ini"
    )


def _separator(cfg: Config, ini: Path, name: str) -> str | None:
    value = _option(cfg, name)
    if value is None:
        return None
    if value not in _SEPARATORS:
        raise AlembicProjectError(
            f"{ini}: {name} = {value!r} is not understood: use os, space, newline, ':' or ';'"
        )
    return _SEPARATORS[value]


def _split(value: str | None, separator: str | None, legacy: re.Pattern[str]) -> list[str]:
    if not value:
        return []
    parts = value.split(separator) if separator else legacy.split(value)
    return [part.strip() for part in parts if part.strip()]


def _escape(text: str) -> str:
    return text.replace("%", "%%")


def _read(ini: Path, stdout: Any) -> Config:
    if not ini.is_file():
        raise AlembicProjectError(
            f"{ini}: no such file; point alembic_ini (--schemafuzz-alembic-ini) at your project's "
            "alembic.ini, or build the schema with --schemafuzz-schema metadata (create_all)"
        )
    cfg = Config(str(ini), stdout=stdout if stdout is not None else io.StringIO())
    try:
        location = _option(cfg, "script_location")
    except Exception as error:  # configparser's errors: a broken ini
        raise AlembicProjectError(f"{ini}: cannot be read: {one_line(error)}") from None
    if location is None:
        raise AlembicProjectError(
            f"{ini}: no script_location in its [alembic] section; is this the project's "
            "alembic.ini?"
        )
    return cfg


def project_config(
    ini: Path,
    *,
    env: AlembicEnv = "suite",
    url: URL | None = None,
    target_metadata: MetaData | None = None,
    connection: Connection | None = None,
    stdout: Any = None,
) -> Config:
    """Return an Alembic ``Config`` for the project at ``ini``, usable from any directory.

    Paths are made absolute (ini folder first, then the working directory), lists are split
    with the project's separator and written back with ``os.pathsep``, ``prepend_sys_path``
    entries are put on ``sys.path`` now. With ``env="suite"`` the project's revisions run
    through the suite's env.py (:mod:`.environment`). ``url`` becomes ``sqlalchemy.url``;
    ``target_metadata`` and ``connection`` go to ``config.attributes``.

    Raises AlembicProjectError (one line: file, error, fix) when the project cannot be loaded.
    """
    ini = ini.resolve()
    cfg = _read(ini, stdout)
    location = _resolve(ini, str(_option(cfg, "script_location")), "script_location")
    cfg.set_main_option("script_location", _escape(location))
    path_separator = _separator(cfg, ini, "path_separator")
    versions_separator = path_separator or _separator(cfg, ini, "version_path_separator")
    versions = [_resolve(ini, entry, "version_locations entry")
                for entry in _split(_option(cfg, "version_locations"), versions_separator,
                                    _LEGACY_VERSIONS_SPLIT)]
    sys_paths = [str((ini.parent / entry).resolve()) if not os.path.isabs(entry) else entry
                 for entry in _split(_option(cfg, "prepend_sys_path"), path_separator,
                                     _LEGACY_SYS_PATH_SPLIT)]
    # Put them on sys.path ourselves, once, instead of letting Alembic prepend relative entries
    # (relative to the working directory) on every command.
    for entry in reversed(sys_paths):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    if cfg.get_main_option("prepend_sys_path") is not None:
        cfg.remove_main_option("prepend_sys_path")
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_path_separator", "os")
    if versions:
        cfg.set_main_option("version_locations", _escape(os.pathsep.join(versions)))
    elif cfg.get_main_option("version_locations") is not None:
        cfg.remove_main_option("version_locations")
    if env == "suite":
        folders = versions or [str(Path(_script(cfg, ini).dir) / "versions")]
        cfg.set_main_option("script_location", _escape(str(SUITE_ENV_DIR)))
        cfg.set_main_option("version_locations", _escape(os.pathsep.join(folders)))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", _escape(url.render_as_string(hide_password=False)))
    if target_metadata is not None:
        cfg.attributes["target_metadata"] = target_metadata
    if connection is not None:
        cfg.attributes["connection"] = connection
    # Honoured by env.py files that guard fileConfig() with it (the reference backend does):
    # re-configuring logging from the ini mid-run would mute pytest's and Hypothesis' loggers.
    cfg.attributes["configure_logger"] = False
    cfg.attributes["schemafuzz_ini"] = str(ini)
    return cfg


def _script(cfg: Config, ini: Path) -> ScriptDirectory:
    try:
        return ScriptDirectory.from_config(cfg)
    except Exception as error:
        raise AlembicProjectError(f"{ini}: {type(error).__name__}: {one_line(error)}") from None


def versions_of(cfg: Config) -> list[Path]:
    """The folders holding the project's revision files, for a config from
    :func:`project_config`."""
    ini = Path(str(cfg.attributes.get("schemafuzz_ini", cfg.config_file_name)))
    listed = cfg.get_main_option("version_locations")
    if listed:
        return [Path(entry) for entry in listed.split(os.pathsep) if entry]
    return [Path(_script(cfg, ini).dir) / "versions"]


def env_py_of(cfg: Config) -> Path:
    """The env.py a config from :func:`project_config` runs (the project's or the suite's)."""
    ini = Path(str(cfg.attributes.get("schemafuzz_ini", cfg.config_file_name)))
    return Path(_script(cfg, ini).dir) / "env.py"
