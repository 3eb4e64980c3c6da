"""The schema under test (whatever ``--schemafuzz-schema`` built: migrations, ``create_all`` or a
SQL dump of production) equals the models' ``create_all`` schema, object by object: columns and
types, nullability, server defaults, CHECKs, FKs with their ON DELETE, unique constraints, indexes,
enum labels, functions and triggers.

The generated-data properties find the differences that change what is stored; this one also
names those that do not show in a single row (an extra enum label, a missing index or server
default, a dropped trigger), reading both live catalogues.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from schemafuzz.findings import ADVICE, Finding
from schemafuzz.fixtures import Verdict
from schemafuzz.harness import DatabaseFactory, SchemaSpec
from schemafuzz.migrations import compare_schema, create_models_schema
from schemafuzz.report import Ledger
from schemafuzz.schema_differences import record_differences


def test_schema_under_test_equals_the_models(
        schemafuzz_schema_engine: sa.Engine, schemafuzz_server: DatabaseFactory,
        schemafuzz_metadata: sa.MetaData, schemafuzz_schema_spec: SchemaSpec,
        schemafuzz_ledger: Ledger) -> None:
    if schemafuzz_schema_spec.kind == "migrations":
        pytest.skip("the schema under test is the migrations' head: "
                    "test_migrations.py::test_schema_equals_models compares it with the models "
                    "and names the revision behind each difference")
    models_url = schemafuzz_server.create_database()
    try:
        create_models_schema(models_url, schemafuzz_metadata)
        models_engine = sa.create_engine(models_url, poolclass=NullPool)
        try:
            with schemafuzz_schema_engine.connect() as under_test, \
                    models_engine.connect() as models_db:
                differences = compare_schema(under_test, models_db, schemafuzz_metadata)
        finally:
            models_engine.dispose()
    finally:
        schemafuzz_server.drop_database(models_url)
    findings = record_differences(schemafuzz_ledger, differences)
    if findings:
        pytest.fail("the schema under test differs from the models:\n"
                    + "\n".join(map(str, findings)), pytrace=False)


def _native_labels(connection: sa.Connection) -> dict[str, list[str]]:
    """The labels of every enum type of the schema under test, by type name."""
    return {str(e["name"]): list(e["labels"])
            for e in sa.inspect(connection).get_enums(schema="*")}  # type: ignore[attr-defined]


def test_enums_store_what_clients_send(schemafuzz_schema_engine: sa.Engine,
                                       schemafuzz_metadata: sa.MetaData,
                                       schemafuzz_verdict: Verdict) -> None:
    """An enum whose member names differ from their values (``LOW = "low"``): SQLAlchemy
    stores the names unless told otherwise (``values_callable``), while an API's clients send
    the values. Where models and database agree on the names, that is advice. Where they
    disagree (the database's type holds the values), every write through the models is
    refused: that drift is the schema comparison's finding (enum type labels) and the valid
    rows' root cause, not reported a third time here."""
    with schemafuzz_schema_engine.connect() as connection:
        live = _native_labels(connection)
    seen: set[tuple[str, str]] = set()
    for table in schemafuzz_metadata.sorted_tables:
        for column in table.columns:
            sa_type = column.type
            cls = getattr(sa_type, "enum_class", None)
            if not isinstance(sa_type, sa.Enum) or cls is None or not sa_type.native_enum:
                continue
            names = [m.name for m in cls]
            values = [str(m.value) for m in cls]
            sent = list(sa_type.enums)
            if names == values or sent != names or (table.name, column.name) in seen:
                continue
            seen.add((table.name, column.name))
            if sorted(live.get(str(sa_type.name), sent)) != sorted(sent):
                continue  # drift: see the docstring
            schemafuzz_verdict.conclude(Finding(
                table.name, column.name, f"enum {sa_type.name}", ["metadata", "database"],
                f"stored by member name ({', '.join(names)}) while the values clients send "
                f"are {', '.join(values)}: raw SQL and other clients must send the names; "
                f"store the values with sa.Enum({cls.__name__}, values_callable=lambda e: "
                "[m.value for m in e]) if that is what they send", kind=ADVICE))
