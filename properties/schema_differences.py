"""The differences between the schema under test and the models, as findings of the coverage
report: one finding per object, declared by the layers that have it (the models' metadata, the
database, or both when they disagree on it). Shared by the schema comparison (test_schema.py)
and the migrations' comparison after ``upgrade head`` (test_migrations.py), which report the
same differences when the schema under test is the migrations' own.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemafuzz.findings import Finding
from schemafuzz.migrations import Difference
from schemafuzz.report import Ledger

__all__ = ["record_differences"]


def _layers(difference: Difference) -> list[str]:
    """The layers that declare the object: the models' side (left), the schema's (right)."""
    return ([] if difference.left is None else ["metadata"]) + (
        [] if difference.right is None else ["database"])


def record_differences(ledger: Ledger, differences: Iterable[Difference]) -> list[Finding]:
    """Declare each difference in ``ledger`` (kind ``schema``) with its finding, and return the
    findings in order; the left side of a difference is the models', the right the schema
    under test's."""
    findings = []
    for difference in differences:
        finding = Finding(difference.table or f"{difference.kind} {difference.name}",
                          difference.column or "", difference.name or difference.kind,
                          _layers(difference),
                          f"{difference.kind}: the models have {difference.left or 'nothing'}, "
                          f"the schema under test has {difference.right or 'nothing'}")
        ledger.declare(finding.table, finding.column, finding.rule, "schema", finding.layers)
        ledger.finding(finding.table, finding.column, finding.rule, finding.note)
        findings.append(finding)
    return findings
