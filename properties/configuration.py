"""What a run is told: the ``[tool.schemafuzz]`` table of the project's ``pyproject.toml``,
each key overridable by its ``--schemafuzz-*`` option.

| key | option | meaning |
|---|---|---|
| ``enabled`` | ``--schemafuzz`` | collect the built-in properties into this project's runs |
| ``models`` | ``--schemafuzz-models`` | module defining the table models (required) |
| ``alembic_ini`` | ``--schemafuzz-alembic-ini`` | the project's alembic.ini (none: no migration
checks) |
| ``alembic_env`` | ``--schemafuzz-alembic-env`` | ``suite`` (default) or ``project`` |
| ``schema`` | ``--schemafuzz-schema`` | ``migrations``, ``metadata`` or ``sql:PATH`` |
| ``db_url`` / ``db_url_env`` | ``--schemafuzz-db-url`` | a server to use instead of a throwaway
one |
| ``profile`` | ``--schemafuzz-profile`` | ``dev``, ``ci`` or ``nightly`` |
| ``accept_unguarded`` | ``--schemafuzz-accept-unguarded`` | rules only the model enforces that
the project accepts: ``["item.title:min_length", ...]`` (the option: comma-separated) |
| ``reference_backend`` | | the models are this repository's reference backend |

Paths in the table are read from the folder of the ``pyproject.toml``; paths given as options
from the working directory. Nothing here imports the app or reaches a server: that is
:mod:`schemafuzz.subject`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .harness.errors import HarnessError

__all__ = ["OPTIONS", "Configuration", "ConfigurationError", "enabled_in", "pyproject_of",
           "read_configuration"]

# pyproject key -> the option that overrides it (dest is the key itself).
OPTIONS: dict[str, str] = {
    "models": "--schemafuzz-models",
    "alembic_ini": "--schemafuzz-alembic-ini",
    "alembic_env": "--schemafuzz-alembic-env",
    "schema": "--schemafuzz-schema",
    "db_url": "--schemafuzz-db-url",
    "profile": "--schemafuzz-profile",
    "accept_unguarded": "--schemafuzz-accept-unguarded",
    "shrink_seconds": "--schemafuzz-shrink-seconds",
}
_KEYS = {"enabled", "db_url_env", "reference_backend", *OPTIONS}
_TABLE = "[tool.schemafuzz]"


class ConfigurationError(HarnessError):
    """A setting that cannot be used; the message is one line naming the setting and the fix."""


@dataclass(frozen=True)
class Configuration:
    """The settings of one run, before anything is imported or connected.

    ``from_options`` names the keys given on the command line (a replay repeats those);
    ``pyproject`` is the file the table was read from, if any.
    """

    enabled: bool = False
    models: str | None = None
    alembic_ini: Path | None = None
    alembic_env: str | None = None
    schema: str | None = None
    db_url: str | None = field(default=None, repr=False)
    profile: str | None = None
    reference_backend: bool = False
    accept_unguarded: frozenset[str] = frozenset()  # "table.column:rule" entries
    shrink_seconds: float | None = None  # per stateful finding; None: the profile's default
    from_options: frozenset[str] = frozenset()
    pyproject: Path | None = None

    def setting(self, key: str) -> str:
        """How a user sets ``key``: its option and, when a pyproject was read, its table."""
        option = OPTIONS.get(key, "--schemafuzz" if key == "enabled" else "")
        where = f"{key} in {_TABLE}"
        return f"{option} or {where}" if option else where


def pyproject_of(rootpath: Path, inipath: Path | None) -> Path | None:
    """Return the ``pyproject.toml`` that configures the run: pytest's own ini file when it is
    one, else the one in the rootdir; None when there is none."""
    if inipath is not None and inipath.name == "pyproject.toml":
        return inipath
    candidate = rootpath / "pyproject.toml"
    return candidate if candidate.is_file() else None


def enabled_in(pyproject: Path | None) -> bool:
    """Whether ``pyproject`` says ``enabled = true`` in ``[tool.schemafuzz]``; False for a
    file that is missing or cannot be read (its other keys are checked only in runs that use
    schemafuzz, by :func:`read_configuration`)."""
    try:
        table = _raw_table(pyproject)
    except ConfigurationError:
        return False
    return isinstance(table, dict) and table.get("enabled") is True


def _raw_table(pyproject: Path | None) -> Any:
    """The ``[tool.schemafuzz]`` value of ``pyproject`` as read ({} without a file); raises
    ConfigurationError for a file that cannot be read or parsed."""
    if pyproject is None:
        return {}
    try:
        with pyproject.open("rb") as stream:
            return tomllib.load(stream).get("tool", {}).get("schemafuzz", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"{pyproject}: cannot be read: {error}") from None


def _table(pyproject: Path | None) -> dict[str, Any]:
    table = _raw_table(pyproject)
    if not isinstance(table, dict):
        raise ConfigurationError(f"{pyproject}: {_TABLE} must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigurationError(
            f"{pyproject}: {_TABLE} has unknown key {unknown[0]!r}; known keys: "
            f"{', '.join(sorted(_KEYS))}")
    return table


def _text(table: dict[str, Any], key: str, pyproject: Path | None) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{pyproject}: {key} in {_TABLE} must be a non-empty string")
    return value.strip()


def _flag(table: dict[str, Any], key: str, pyproject: Path | None) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{pyproject}: {key} in {_TABLE} must be true or false")
    return value


def _db_url_from_table(table: dict[str, Any], pyproject: Path | None) -> str | None:
    direct = _text(table, "db_url", pyproject)
    variable = _text(table, "db_url_env", pyproject)
    if direct and variable:
        raise ConfigurationError(
            f"{pyproject}: set db_url or db_url_env in {_TABLE}, not both")
    if variable:
        return os.environ.get(variable) or None
    return direct


def read_configuration(pyproject: Path | None, options: dict[str, Any]) -> Configuration:
    """Merge the ``[tool.schemafuzz]`` table of ``pyproject`` with the command-line
    ``options`` (key -> value, None when not given; ``enabled`` is the ``--schemafuzz`` flag).

    ``SCHEMAFUZZ_DATABASE_URL`` and ``SCHEMAFUZZ_PROFILE`` come between the two. Returns the
    merged Configuration; raises ConfigurationError for an unreadable file, an unknown key or a
    value of the wrong type.
    """
    table = _table(pyproject)
    base = pyproject.parent if pyproject is not None else Path.cwd()
    given = {key for key, value in options.items() if value not in (None, False)}
    ini_text = options.get("alembic_ini") or _text(table, "alembic_ini", pyproject)
    ini_base = Path.cwd() if options.get("alembic_ini") else base
    return Configuration(
        enabled=bool(options.get("enabled")) or _flag(table, "enabled", pyproject),
        models=options.get("models") or _text(table, "models", pyproject),
        alembic_ini=(ini_base / Path(ini_text).expanduser()) if ini_text else None,
        alembic_env=options.get("alembic_env") or _text(table, "alembic_env", pyproject),
        schema=options.get("schema") or _schema_from_table(table, pyproject, base),
        db_url=(options.get("db_url") or os.environ.get("SCHEMAFUZZ_DATABASE_URL")
                or _db_url_from_table(table, pyproject)),
        profile=(options.get("profile") or os.environ.get("SCHEMAFUZZ_PROFILE")
                 or _text(table, "profile", pyproject)),
        reference_backend=_flag(table, "reference_backend", pyproject),
        accept_unguarded=_accepted(table, pyproject, options.get("accept_unguarded")),
        shrink_seconds=_seconds(table, pyproject, options.get("shrink_seconds")),
        from_options=frozenset(given),
        pyproject=pyproject,
    )


def _accepted(table: dict[str, Any], pyproject: Path | None, option: str | list[str] | None
              ) -> frozenset[str]:
    """The ``accept_unguarded`` entries of the table and of the option (comma-separated, the
    option given once or more);
    raises ConfigurationError when the table's value is not a list of "table.column[:rule]"."""
    value = table.get("accept_unguarded", [])
    entries = [*value] if isinstance(value, list) else None
    if entries is None or not all(isinstance(e, str) and "." in e for e in entries):
        raise ConfigurationError(
            f'{pyproject}: accept_unguarded in {_TABLE} must be a list of "table.column:rule" '
            'strings, e.g. ["item.title:min_length"]')
    given = [option] if isinstance(option, str) else list(option or [])
    entries += [e for text in given for e in text.split(",") if e.strip()]
    return frozenset(e.strip() for e in entries)


def _seconds(table: dict[str, Any], pyproject: Path | None, option: str | None
             ) -> float | None:
    """``shrink_seconds`` from the option, else the table; None when neither sets it. Raises
    ConfigurationError for a value that is not a number of seconds >= 0."""
    value: Any = option if option is not None else table.get("shrink_seconds")
    if value is None:
        return None
    where = OPTIONS["shrink_seconds"] if option is not None else f"{pyproject}: shrink_seconds"
    try:
        seconds = float(value) if not isinstance(value, bool) else -1.0
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:  # also refuses NaN
        raise ConfigurationError(f"{where} must be a number of seconds >= 0 (0: do not shrink "
                                 f"stateful findings), not {value!r}")
    return seconds


def _schema_from_table(table: dict[str, Any], pyproject: Path | None, base: Path) -> str | None:
    text = _text(table, "schema", pyproject)
    if text is not None and text.startswith("sql:") and len(text) > 4:
        return f"sql:{base / Path(text[4:]).expanduser()}"  # relative to the pyproject's folder
    return text
