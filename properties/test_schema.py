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

from schemafuzz.findings import Finding
from schemafuzz.harness import DatabaseFactory
from schemafuzz.migrations import compare_schema, create_models_schema
from schemafuzz.report import Ledger


def test_schema_under_test_equals_the_models(
        schemafuzz_schema_engine: sa.Engine, schemafuzz_server: DatabaseFactory,
        schemafuzz_metadata: sa.MetaData,
        schemafuzz_ledger: Ledger) -> None:
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
    findings: list[str] = []
    for difference in differences:
        finding = Finding(difference.table or "<schema>", difference.column or "",
                          difference.name or difference.kind, ["metadata", "database"],
                          f"{difference.kind}: the models have {difference.left or 'nothing'}, "
                          f"the schema under test has {difference.right or 'nothing'}")
        _record(schemafuzz_ledger, finding)
        findings.append(str(finding))
    if findings:
        pytest.fail("the schema under test differs from the models:\n" + "\n".join(findings),
                    pytrace=False)


def _record(ledger: Ledger, finding: Finding) -> None:
    ledger.declare(finding.table, finding.column, finding.rule, "schema", list(finding.layers))
    ledger.finding(finding.table, finding.column, finding.rule, finding.what)


