"""The schemafuzz pytest plugin, opt-in: installed, it adds its ``--schemafuzz*`` options and
nothing else. A run is *active* when it asks: ``pytest --schemafuzz``, ``enabled = true`` in
``[tool.schemafuzz]`` of the project's pyproject.toml, or a path among the run's arguments that
lies inside the installed properties (a replay). Then, and only then:

- the connection guard (:mod:`schemafuzz.harness.guard`) is armed before the first conftest is
  imported: the run's processes reach only the suite's own servers and databases;
- the configuration is resolved once (:func:`schemafuzz.subject.resolve`), before any
  server starts; a bad setting ends the run with one line;
- the built-in properties join the run (:mod:`schemafuzz.collection`), with the fixtures
  (:mod:`schemafuzz.fixtures`), the xdist control (:mod:`schemafuzz.xdist_control`), replay
  (:mod:`schemafuzz.replay`), reports (:mod:`schemafuzz.reporting`) and progress lines
  (:mod:`schemafuzz.progress`) and the heap freeze (:mod:`schemafuzz.heap`) registered as
  plugins of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .collection import PACKAGE_DIR, inside_package
from .configuration import (
    OPTIONS,
    Configuration,
    enabled_in,
    pyproject_of,
    read_configuration,
)
from .harness import HarnessError, guard, register_profiles
from .harness.profiles import set_run_profile
from .migrations.environment import ALEMBIC_ENVS
from .subject import UNDER_TEST_KEY, resolve

__all__ = ["is_active"]

_CONFIGURATION_KEY = pytest.StashKey[Configuration]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("schemafuzz", "schemafuzz: schema fuzzing against PostgreSQL")
    group.addoption("--schemafuzz", action="store_true", default=False,
                    help="run schemafuzz's properties in this run (or enabled = true in "
                    "[tool.schemafuzz] of pyproject.toml)")
    group.addoption(OPTIONS["models"], dest="schemafuzz_models", default=None, metavar="MODULE",
                    help="module that defines the SQLModel table models (models = ...)")
    group.addoption(OPTIONS["alembic_ini"], dest="schemafuzz_alembic_ini", default=None,
                    metavar="PATH", help="the project's alembic.ini (alembic_ini = ...; none: "
                    "the migration properties are skipped)")
    group.addoption(OPTIONS["alembic_env"], dest="schemafuzz_alembic_env", default=None,
                    metavar="WHICH", choices=ALEMBIC_ENVS,
                    help="which env.py runs the revisions: suite (default: the suite's own, on "
                    "its connection) or project (yours; it must use "
                    "config.attributes['connection'])")
    group.addoption(OPTIONS["schema"], dest="schemafuzz_schema", default=None, metavar="HOW",
                    help="how the schema under test is built: migrations (default with an "
                    "Alembic project), metadata (create_all; default without one) or sql:PATH")
    group.addoption(OPTIONS["db_url"], dest="schemafuzz_db_url", default=None, metavar="URL",
                    help="use this PostgreSQL server; the suite creates and drops its own "
                    "database there (default: $SCHEMAFUZZ_DATABASE_URL, else a throwaway server)")
    group.addoption(OPTIONS["profile"], dest="schemafuzz_profile", default=None,
                    metavar="NAME", help="dev, ci or nightly (default: $SCHEMAFUZZ_PROFILE, "
                    "ci when CI is set, else dev)")
    group.addoption(OPTIONS["accept_unguarded"], dest="schemafuzz_accept_unguarded",
                    default=None, action="append", metavar="TABLE.COLUMN:RULE,...",
                    help="rules only the model enforces that the project accepts, comma-"
                    "separated; repeatable (added to accept_unguarded in [tool.schemafuzz])")
    group.addoption(OPTIONS["shrink_seconds"], dest="schemafuzz_shrink_seconds", default=None,
                    metavar="SECONDS", help="how long a stateful finding is shrunk (default: "
                    "0.75 s per step of the profile's stateful_step_count; shrink_seconds = ...)")


def _options(config: pytest.Config) -> dict[str, Any]:
    namespace = config.known_args_namespace  # parsed before the first conftest is loaded
    values = {key: getattr(namespace, f"schemafuzz_{key}", None) for key in OPTIONS}
    values["enabled"] = bool(getattr(namespace, "schemafuzz", False))
    return values


def _named_paths(config: pytest.Config) -> list[Path]:
    """The paths the run was given (arguments, else testpaths), as absolute paths."""
    names = list(getattr(config.known_args_namespace, "file_or_dir", None) or [])
    if not names:
        names = list(config.getini("testpaths") or [])
        base = config.rootpath
    else:
        base = config.invocation_params.dir
    return [(base / name.split("::")[0]).resolve() for name in names]


def _configuration(config: pytest.Config) -> Configuration:
    if _CONFIGURATION_KEY not in config.stash:
        try:
            config.stash[_CONFIGURATION_KEY] = read_configuration(
                pyproject_of(config.rootpath, config.inipath), _options(config))
        except HarnessError as error:
            raise pytest.UsageError(f"schemafuzz: {error}") from None
    return config.stash[_CONFIGURATION_KEY]


def is_active(config: pytest.Config) -> bool:
    """Whether this run asked for schemafuzz (see the module docstring). Only a run that did
    has its ``[tool.schemafuzz]`` table checked: a project that does not use schemafuzz never
    hears from it, whatever its pyproject.toml holds."""
    if config.known_args_namespace.schemafuzz:
        return True
    if any(inside_package(path) for path in _named_paths(config)):
        return True
    return enabled_in(pyproject_of(config.rootpath, config.inipath))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Before any conftest (and so any of the app's modules) is imported.
    if is_active(early_config):
        guard.arm()


def pytest_configure(config: pytest.Config) -> None:
    if not is_active(config):
        return
    guard.arm()  # xdist workers do not run pytest_load_initial_conftests for plugins
    from . import (
        collection,
        fixtures,
        github_annotations,
        heap,
        progress,
        replay,
        reporting,
        run_scope,
        verdicts,
        xdist_control,
    )

    xdist_control.permit_shared_server(config)
    try:
        under_test = resolve(_configuration(config))
        register_profiles()  # a bad SCHEMAFUZZ_SHARED_EXAMPLES is a usage error too
        set_run_profile(under_test.profile)
    except HarnessError as error:
        raise pytest.UsageError(fixtures.setup_error_line(error)) from None
    config.stash[UNDER_TEST_KEY] = under_test
    config.addinivalue_line("markers", "schemafuzz: one of schemafuzz's built-in properties")
    collection.add_properties(config, _named_paths(config))
    for module in (collection, fixtures, heap, replay, reporting, progress, verdicts):
        config.pluginmanager.register(module, f"schemafuzz.{module.__name__.rsplit('.', 1)[1]}")
    xdist_control.register(config)
    run_scope.register(config)
    github_annotations.register(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    under_test = config.stash.get(UNDER_TEST_KEY, None)
    if under_test is None:
        return []
    return [under_test.describe(), f"schemafuzz properties: {PACKAGE_DIR}"]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # pytest-alembic comes with schemafuzz (the migration properties run its built-in checks)
    # and registers, in every run, a collector bound to tests/conftest.py. Without its
    # --test-alembic flag that collector collects nothing; on pytest 9 it cannot even be built
    # ("'TestCollector' object has no attribute '_nodeid'"), which fails the collection of any
    # project that has a tests/conftest.py. Installing schemafuzz must not break a project's
    # own runs: the collector is dropped whenever it would collect nothing.
    config = session.config
    if config.getoption("pytest_alembic_registration_enabled", default=False):
        return
    collector = config.pluginmanager.get_plugin("pytest-alembic")
    if collector is not None:
        config.pluginmanager.unregister(collector)
