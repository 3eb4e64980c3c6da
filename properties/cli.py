"""The ``schemafuzz`` command: the built-in properties for people who do not live in pytest.

    schemafuzz --models app.models [--alembic-ini PATH] [--schema HOW] [--db-url URL]
               [--alembic-env suite|project] [--profile NAME] [-- PYTEST ARGS]
    schemafuzz merge FOLDER... [--out .schemafuzz] [--models app.models]

It runs pytest on the installed properties only (not the project's own tests), from the working
directory, with the project's configuration file there (the ``[tool.schemafuzz]`` table of
./pyproject.toml) and these options on top.
Exit status: 0 when the schema holds, 1 on findings, 2 on a usage error or a run that could not
reach a verdict (interrupted, nothing collected, pytest's own failure).

``merge`` writes the reports one run of several runs' properties would have written (shards
on several machines: see :mod:`schemafuzz.shards`); exit status 0 when the runs together hold,
1 on findings or a failed criterion, 2 when a folder holds no report data.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from .collection import PACKAGE_DIR
from .configuration import OPTIONS

__all__ = ["main"]

_HOLDS, _FINDINGS, _USAGE = 0, 1, 2

_HELP = {
    "models": "module that defines the SQLModel table models (models in [tool.schemafuzz])",
    "alembic_ini": "the project's alembic.ini; without one the migration properties are skipped",
    "alembic_env": "which env.py runs the revisions: suite (default) or project",
    "schema": "how the schema under test is built: migrations (default with an Alembic "
              "project), metadata (create_all) or sql:PATH (e.g. a pg_dump --schema-only)",
    "db_url": "a PostgreSQL server to use; schemafuzz creates and drops its own database there "
              "(default: $SCHEMAFUZZ_DATABASE_URL, else a throwaway server it starts)",
    "profile": "Hypothesis profile: dev (default), ci (default when CI is set) or nightly",
    "accept_unguarded": "rules only the models enforce that the project accepts, comma-"
                        "separated table.column:rule (accept_unguarded in [tool.schemafuzz])",
    "shrink_seconds": "how long a stateful finding is shrunk (default 0.75 s per step of the "
                      "profile; shrink_seconds in [tool.schemafuzz])",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="schemafuzz",
        description="Check that PostgreSQL enforces what your SQLModel models say: every value "
        "the models accept is stored and reads back equal, every value they refuse is refused "
        "by the database. Settings not given here come from [tool.schemafuzz] of "
        "./pyproject.toml.",
        epilog="Arguments after -- go to pytest (e.g. -- -x -k constraints, or -- -n auto "
        "with pytest-xdist). Exit status: 0 the schema holds, 1 findings, 2 usage error or no "
        "verdict. `schemafuzz merge --help`: join the reports of shards run on several "
        "machines.")
    for key, option in OPTIONS.items():
        flag = "--" + key.replace("_", "-")
        metavar = "TABLE.COLUMN:RULE,..." if key == "accept_unguarded" else key.split("_")[-1]
        parser.add_argument(flag, dest=key, metavar=metavar.upper(), help=_HELP[key])
        del option  # the pytest option each one becomes: OPTIONS[key]
    return parser


# pytest's own configuration files, in the order it looks for them.
_CONFIG_FILES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def _config_file(folder: Path) -> str:
    """The project's configuration file in ``folder``, else the null device. Named
    explicitly: pytest would otherwise look for one in the folders above the installed
    package, which may belong to another project (a virtualenv inside a checkout)."""
    for name in _CONFIG_FILES:
        if (folder / name).is_file():
            return name
    return os.devnull


def pytest_arguments(argv: Sequence[str]) -> list[str]:
    """The pytest command line for ``schemafuzz ARGV``. Raises SystemExit(2) with argparse's
    usage message for arguments it does not know (``--help`` exits 0)."""
    args = list(argv)
    passthrough: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, passthrough = args[:cut], args[cut + 1:]
    parsed = _parser().parse_args(args)
    words = ["--schemafuzz", str(PACKAGE_DIR), "--rootdir", ".", "-c", _config_file(Path.cwd())]
    for key, option in OPTIONS.items():
        value = getattr(parsed, key)
        if value is not None:
            words += [option, value]
    return [*words, *passthrough]


def _merge(argv: Sequence[str]) -> int:
    """``schemafuzz merge``: merge the runs' reports; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="schemafuzz merge",
        description="Merge the reports of several runs of the properties (shards of one run "
        "on several machines) into the reports one run of them all writes.")
    parser.add_argument("folders", nargs="+", type=Path, metavar="FOLDER",
                        help="a run's .schemafuzz folder, or the folder the run started in")
    parser.add_argument("--out", type=Path, default=Path(".schemafuzz"),
                        help="where the merged reports go (default: ./.schemafuzz)")
    parser.add_argument("--models", default=None,
                        help="the models module, for the diagram (default: models in "
                        "[tool.schemafuzz] of ./pyproject.toml; none: no diagram)")
    parsed = parser.parse_args(list(argv))
    from .harness.errors import HarnessError
    from .shards import merge_runs

    try:
        merged = merge_runs(parsed.folders, parsed.out, _models_metadata(parsed.models))
    except HarnessError as error:
        print(f"schemafuzz merge: {error}", file=sys.stderr)
        return _USAGE
    print("\n".join(merged.lines))
    return _HOLDS if merged.holds else _FINDINGS


def _models_metadata(models: str | None) -> Any:
    """The MetaData of ``models`` (else of ``models`` in ./pyproject.toml), None when neither
    names one. Raises HarnessError when the module cannot be imported, as a run would."""
    from .configuration import pyproject_of, read_configuration
    from .subject import import_models, metadata_of

    configuration = read_configuration(pyproject_of(Path.cwd(), None), {"models": models})
    if configuration.models is None:
        return None
    return metadata_of(import_models(configuration)[1])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the properties (or ``merge`` the reports of several runs); return the exit status
    described in the module docstring. Raises SystemExit(2) for arguments it does not know,
    before anything runs."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["merge"]:
        return _merge(args[1:])
    words = pytest_arguments(args)
    # pytest runs in a child interpreter, not through pytest.main() here: this process has
    # imported Hypothesis and pytest-alembic already (the options above come from the
    # package), and pytest then cannot rewrite the asserts of those plugins (one
    # PytestAssertRewriteWarning each in the user's output).
    child = subprocess.Popen([sys.executable, "-m", "pytest", *words])
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:
            # Ctrl-C reached the child too (same process group): it drops its databases and
            # exits; its exit status is the verdict.
            continue
    if code == pytest.ExitCode.OK:
        return _HOLDS
    if code == pytest.ExitCode.TESTS_FAILED:
        return _FINDINGS
    return _USAGE


if __name__ == "__main__":
    sys.exit(main())
