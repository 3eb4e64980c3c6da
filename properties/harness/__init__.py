"""The harness: provisioning PostgreSQL, building the schema under test, isolation, profiles.

Property authors need only the pytest fixtures (see ``schemafuzz.plugin``); these names are
for tools built on top of the suite.
"""

from .databases import DatabaseFactory, describe_url
from .diagnostics import diagnostics_of, sqlstate_of
from .errors import HarnessError
from .profiles import choose_profile, register_profiles
from .provision import Provisioned, parse_db_url, provision
from .sandbox import Sandbox
from .schema import SchemaSpec, build_schema, parse_schema_option

__all__ = [
    "DatabaseFactory",
    "HarnessError",
    "Provisioned",
    "Sandbox",
    "SchemaSpec",
    "build_schema",
    "choose_profile",
    "describe_url",
    "diagnostics_of",
    "parse_db_url",
    "parse_schema_option",
    "provision",
    "register_profiles",
    "sqlstate_of",
]
