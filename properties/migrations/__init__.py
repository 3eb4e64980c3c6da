"""Migration properties: a runner over any Alembic project, catalogue diffs, data preservation.

Public API (one concept per private module):

* :class:`MigrationRunner` (``runner``): an ``alembic.ini`` + a database URL; stepwise upgrade and
  downgrade that name the failing revision; timings.
* :func:`diff_live_schemas` (``diff``): the differences between two live-schema snapshots
  (:func:`schemafuzz.strategies.read_live_schema`, the one reader of the catalogue).
* :func:`compare_schema` (``schema``): migrated schema vs the models (Alembic + catalogue).
* the standard checks (``builtin``), several of them pytest-alembic's built-in tests.
* :func:`check_data_preservation` (``preservation``) over a :class:`GraphSource`, by default
  :func:`strategies_source` (rows from :func:`schemafuzz.strategies.table_graphs`).
* :func:`record_timings` (``timing``).
* :func:`project_config` (``config``): the one way to build a project's Alembic ``Config``,
  from any working directory, with the suite's env.py (default) or the project's (``environment``).
"""

from .attribution import attribute_differences
from .builtin import (
    DowngradeTraceError,
    check_each_revision_round_trip,
    check_model_definitions_match_ddl,
    check_single_head,
    check_up_down_consistency,
    check_upgrade_from_empty,
    pytest_alembic_context,
)
from .config import AlembicProjectError, project_config
from .diff import Difference, diff_live_schemas
from .environment import (
    ALEMBIC_ENVS,
    DEFAULT_ALEMBIC_ENV,
    SUITE_ENV_DIR,
    AlembicEnv,
    parse_alembic_env,
)
from .preservation import (
    DataLossError,
    GraphSource,
    PreservationReport,
    RowMismatch,
    RowsRefusedError,
    check_data_preservation,
    reflect_tables,
    strategies_source,
)
from .runner import MigrationError, MigrationRunner, MultipleHeadsError
from .schema import SchemaMismatchError, alembic_differences, compare_schema, create_models_schema
from .timing import DEFAULT_TIMINGS_PATH, record_timings

__all__ = [
    "ALEMBIC_ENVS",
    "DEFAULT_ALEMBIC_ENV",
    "DEFAULT_TIMINGS_PATH",
    "SUITE_ENV_DIR",
    "AlembicEnv",
    "AlembicProjectError",
    "DataLossError",
    "Difference",
    "DowngradeTraceError",
    "GraphSource",
    "MigrationError",
    "MigrationRunner",
    "MultipleHeadsError",
    "PreservationReport",
    "RowMismatch",
    "RowsRefusedError",
    "SchemaMismatchError",
    "alembic_differences",
    "attribute_differences",
    "check_data_preservation",
    "check_each_revision_round_trip",
    "check_model_definitions_match_ddl",
    "check_single_head",
    "check_up_down_consistency",
    "check_upgrade_from_empty",
    "compare_schema",
    "create_models_schema",
    "diff_live_schemas",
    "parse_alembic_env",
    "project_config",
    "pytest_alembic_context",
    "record_timings",
    "reflect_tables",
    "strategies_source",
]
