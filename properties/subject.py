"""What is under test, resolved once per run from the :class:`Configuration`: the models module
and its metadata, the Alembic project (if any), how the schema is built, which server, which
Hypothesis profile. Every problem is found here, before any server starts, and said in one
line with the fix (:class:`ConfigurationError`).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from . import strategies
from .configuration import Configuration, ConfigurationError
from .harness import guard
from .harness.errors import HarnessError
from .harness.profiles import PROFILES, choose_profile
from .harness.provision import parse_db_url
from .harness.schema import SchemaSpec, parse_schema_option
from .migrations.environment import AlembicEnv, parse_alembic_env

__all__ = ["UNDER_TEST_KEY", "UnderTest", "import_models", "metadata_of", "resolve",
           "table_models", "under_test_of"]


@dataclass(frozen=True)
class UnderTest:
    """The app, schema and server one run tests (see the module docstring)."""

    configuration: Configuration
    models_name: str
    models: ModuleType = field(repr=False)
    metadata: sa.MetaData = field(repr=False)
    table_models: tuple[type[Any], ...]
    alembic_ini: Path | None
    revisions: tuple[str, ...]  # base to head; empty without a project or with several heads
    alembic_env: AlembicEnv
    schema: SchemaSpec
    db_url: str | None = field(repr=False)  # checked by parse_db_url, kept as given
    profile: str

    @property
    def reference_backend(self) -> bool:
        """Whether the models are this repository's reference backend (its own properties
        run only then)."""
        return self.configuration.reference_backend

    def describe(self) -> str:
        """One line for the run's header."""
        server = "--schemafuzz-db-url" if self.db_url is not None else "throwaway"
        return (f"schemafuzz: profile={self.profile} models={self.models_name} "
                f"schema={self.schema.describe()} server={server}")


UNDER_TEST_KEY = pytest.StashKey[UnderTest]()


def under_test_of(config: pytest.Config) -> UnderTest:
    """What this run tests, as the plugin resolved it in ``pytest_configure``.

    Raises pytest.UsageError when schemafuzz is not active in this run (a property module
    collected without ``--schemafuzz``)."""
    under_test = config.stash.get(UNDER_TEST_KEY, None)
    if under_test is None:
        raise pytest.UsageError(
            "schemafuzz is not active in this run: pass --schemafuzz, or set enabled = true "
            "in [tool.schemafuzz] of pyproject.toml")
    return under_test


def table_models(module: ModuleType) -> tuple[type[Any], ...]:
    """The table models a module exposes (:func:`schemafuzz.strategies.table_models`), one
    per table, ordered by table name."""
    found = {str(model.__table__.name): model for model in strategies.table_models(module)}
    return tuple(found[name] for name in sorted(found))


def metadata_of(module: ModuleType) -> sa.MetaData:
    """The module's ``metadata`` attribute when it is a MetaData; else the MetaData its table
    models share (models on their own ``registry()``, as many apps declare them); else
    ``SQLModel.metadata``. Raises ConfigurationError when the models are on several MetaData
    and the module does not say which one is the app's."""
    metadata = getattr(module, "metadata", None)
    if isinstance(metadata, sa.MetaData):
        return metadata
    shared = {id(model.__table__.metadata): model.__table__.metadata
              for model in table_models(module)}
    if len(shared) > 1:
        raise ConfigurationError(
            f"the table models of {module.__name__} are on {len(shared)} different MetaData: "
            f"set metadata = <the app's MetaData> in {module.__name__}")
    return next(iter(shared.values())) if shared else SQLModel.metadata


def _last_line(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[-1].strip() if lines else ''}".rstrip(": ")


def import_models(configuration: Configuration) -> tuple[str, ModuleType]:
    """The configured models module, imported with the project's folder importable; returns
    (its name, the module). Raises ConfigurationError, one line with the fix, when no models
    are configured or the module cannot be imported."""
    name = configuration.models
    if not name:
        where = (f"in {configuration.pyproject}" if configuration.pyproject is not None
                 else "in your pyproject.toml")
        raise ConfigurationError(
            "no models configured: add models = \"your_app.models\" to [tool.schemafuzz] "
            f"{where}, or pass --schemafuzz-models MODULE")
    # Like Alembic's `prepend_sys_path = .`: the project's folder (that of its pyproject.toml,
    # else the working directory) is importable, however pytest or the command was started.
    project = configuration.pyproject.parent if configuration.pyproject else Path.cwd()
    if str(project) not in sys.path:
        sys.path.insert(0, str(project))
    try:
        return name, importlib.import_module(name)
    except guard.GuardRefusal as refusal:
        raise ConfigurationError(str(refusal)) from None
    except Exception as error:
        raise ConfigurationError(
            f"models {name!r} ({configuration.setting('models')}) cannot be imported: "
            f"{_last_line(error)}") from None


def _alembic_ini(configuration: Configuration) -> Path | None:
    ini = configuration.alembic_ini
    if ini is None:
        return None
    if not ini.is_file():
        raise ConfigurationError(
            f"alembic_ini {str(ini)!r} ({configuration.setting('alembic_ini')}): no such file; "
            "point it at your project's alembic.ini, or leave it out to skip the migration "
            "properties")
    return ini.resolve()


def _schema(configuration: Configuration, alembic_ini: Path | None) -> SchemaSpec:
    text = configuration.schema or ("migrations" if alembic_ini is not None else "metadata")
    try:
        spec = parse_schema_option(text)
    except HarnessError as error:
        raise ConfigurationError(str(error)) from None
    if spec.kind == "migrations" and alembic_ini is None:
        raise ConfigurationError(
            "schema = migrations needs an Alembic project: set alembic_ini "
            f"({configuration.setting('alembic_ini')}), or use schema = metadata or sql:PATH")
    return spec


def _profile(configuration: Configuration) -> str:
    profile = choose_profile(configuration.profile)
    if profile not in PROFILES:
        raise ConfigurationError(
            f"profile {profile!r} ({configuration.setting('profile')} or SCHEMAFUZZ_PROFILE) "
            f"is not one of schemafuzz's profiles: use {', '.join(PROFILES)}")
    return profile


def _revisions(alembic_ini: Path, alembic_env: AlembicEnv) -> tuple[str, ...]:
    """The project's revision ids, base to head (its revision files are imported once, here);
    empty when the history has several heads, a finding the migration properties report."""
    # Imported here: Alembic is only needed when a project is configured.
    from .migrations.config import AlembicProjectError
    from .migrations.runner import MigrationRunner, MultipleHeadsError

    try:
        return tuple(MigrationRunner(alembic_ini, make_url("postgresql://unused"),
                                     env=alembic_env).revisions())
    except AlembicProjectError as error:
        raise ConfigurationError(str(error)) from None
    except MultipleHeadsError:
        return ()


def resolve(configuration: Configuration) -> UnderTest:
    """Check every setting and import the models; return what the run tests.

    Raises ConfigurationError, one line naming the setting and the fix, for: an unknown
    profile, models missing, not importable or without table models, a missing alembic.ini
    or SQL file, an Alembic project that cannot be loaded, an unknown schema or alembic_env
    value, and a database URL that is not PostgreSQL's. Nothing connects to a server.
    """
    profile = _profile(configuration)
    try:
        alembic_env = parse_alembic_env(configuration.alembic_env)
    except ValueError as error:
        raise ConfigurationError(str(error)) from None
    if configuration.db_url:
        try:
            parse_db_url(configuration.db_url)
        except HarnessError as error:
            raise ConfigurationError(str(error)) from None
    alembic_ini = _alembic_ini(configuration)
    schema = _schema(configuration, alembic_ini)
    name, module = import_models(configuration)
    models = table_models(module)
    if not models and not metadata_of(module).tables:
        raise ConfigurationError(
            f"models {name!r} defines no table models (SQLModel classes with table=True); "
            f"point {configuration.setting('models')} at the module that defines them")
    revisions = _revisions(alembic_ini, alembic_env) if alembic_ini is not None else ()
    return UnderTest(
        configuration=configuration, models_name=name, models=module,
        metadata=metadata_of(module), table_models=models, alembic_ini=alembic_ini,
        revisions=revisions,
        alembic_env=alembic_env, schema=schema, db_url=configuration.db_url, profile=profile,
    )
