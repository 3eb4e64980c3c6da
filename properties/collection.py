"""How the built-in properties join a run: which files, under which Hypothesis settings, over
which tables and constraints (known at collection time, so each gets its own test id).

The properties are the ``test_*.py`` modules of this package. A run that asked for them
(``--schemafuzz`` on the command line, or ``enabled = true`` with no paths given) collects them
beside the project's own tests, unless its arguments already name some of them (a replay, or
``pytest properties`` in the schemafuzz repository). Their Hypothesis settings are schemafuzz's
profiles; the project's own Hypothesis tests keep theirs: the profile is loaded only while a
property module is imported (``@given`` reads the default settings then) and while a property
runs (the stateful machines build theirs then), and the previous profile is restored after.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path

import pytest
from hypothesis import settings

from .harness.profiles import profile_name
from .subject import under_test_of

__all__ = ["PACKAGE_DIR", "add_properties", "inside_package"]

PACKAGE_DIR = Path(__file__).resolve().parent
_PROPERTY_FILES = "test_*.py"  # the package's modules that hold properties


def inside_package(path: Path) -> bool:
    """Whether ``path`` (absolute) is this package's folder or lies inside it."""
    return path.resolve().is_relative_to(PACKAGE_DIR)


def add_properties(config: pytest.Config, named: list[Path]) -> None:
    """Add the property modules to the run's arguments when the run asked for them (see the
    module docstring)."""
    if any(inside_package(path) for path in named):
        return
    flag = bool(config.getoption("schemafuzz"))
    if not flag and config.args_source == pytest.Config.ArgsSource.ARGS:
        return  # enabled in pyproject.toml, and the user narrowed this run to some paths
    # The folder, not its files: node ids then read `test_constraints.py::...` (relative to the
    # folder) rather than `::...` when the package lies outside the rootdir (site-packages).
    config.args.append(str(PACKAGE_DIR))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # Only the package's test_*.py files are properties. Its subfolders and other modules
    # would otherwise be collected by `pytest properties` in the schemafuzz repository (and
    # its modules imported a second time, under the folder's name) or by a project whose
    # python_files is as wide as `*.py`.
    if not inside_package(collection_path) or collection_path.resolve() == PACKAGE_DIR:
        return None
    if collection_path.is_dir():
        return True
    if collection_path.name == "__init__.py" or fnmatch(collection_path.name, _PROPERTY_FILES):
        return None
    return True


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # The properties are collected whatever the project's `python_files` says; pytest's own
    # hook collects them when the patterns match, this one when they do not.
    if file_path.resolve().parent != PACKAGE_DIR or not fnmatch(file_path.name, _PROPERTY_FILES):
        return None
    patterns = parent.config.getini("python_files")
    if any(fnmatch(file_path.name, pattern) for pattern in patterns):
        return None
    return pytest.Module.from_parent(parent, path=file_path)


def _is_property(path: Path) -> bool:
    return path.suffix == ".py" and inside_package(path)


@contextmanager
def _profile_loaded(config: pytest.Config) -> Iterator[None]:
    previous = settings.get_current_profile_name()
    settings.load_profile(profile_name(under_test_of(config).profile))
    try:
        yield
    finally:
        settings.load_profile(previous)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector
                               ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    # Importing a property module: its @given tests and settings(...) take the profile's values.
    if not (isinstance(collector, pytest.Module) and _is_property(collector.path)):
        return (yield)
    with _profile_loaded(collector.config):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, object, object]:
    # Running a property: settings() built at run time (the stateful machines) take them too.
    if not _is_property(item.path):
        return (yield)
    with _profile_loaded(item.config):
        return (yield)


def pytest_itemcollected(item: pytest.Item) -> None:
    if _is_property(item.path):
        item.add_marker("schemafuzz")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not _is_property(metafunc.definition.path):
        return
    names = set(metafunc.fixturenames)
    if not names & {"table_model", "violable", "fk_target", "db_enforced"}:
        return
    from .targets import enforced_on_flush, foreign_keys, violable_constraints

    # Every list is sorted by test id: xdist workers must collect the same tests in the same
    # order, and catalogue order can follow set iteration, which differs between processes.
    models = list(under_test_of(metafunc.config).table_models)
    if "table_model" in names:
        metafunc.parametrize("table_model", models, ids=[m.__table__.name for m in models])
    if "violable" in names:
        violable = sorted(violable_constraints(models)[0], key=lambda v: v.test_id)
        metafunc.parametrize("violable", violable, ids=[v.test_id for v in violable])
    if "db_enforced" in names:
        enforced = sorted((v for v in violable_constraints(models)[0] if enforced_on_flush(v)),
                          key=lambda v: v.test_id)
        metafunc.parametrize("db_enforced", enforced, ids=[v.test_id for v in enforced])
    if "fk_target" in names:
        fks = sorted(foreign_keys(models), key=lambda f: f.test_id)
        metafunc.parametrize("fk_target", fks, ids=[f.test_id for f in fks])

