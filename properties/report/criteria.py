"""The success criteria SC-001..SC-010 and how a property records a measurement of one.

A property wraps the code that measures a criterion in :func:`measuring`; the figure it sets is
recorded in the run's ledger as a pass, and any failure inside the block (an assertion, a
database error, ``pytest.fail``) is recorded as a FAIL with its first line before it propagates.
A skipped property records nothing, so its criterion stays "not measured".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from .ledger import Ledger

__all__ = ["CRITERIA", "USER_QUERY_P95_LIMIT_MS", "Criterion", "Measuring", "measuring"]


@dataclass(frozen=True)
class Criterion:
    """One success criterion: its id, what it demands, what kind of figure proves it, and the
    threshold a measurement is judged against (empty when the spec gives none: the figure is
    then reported as ``measured``, never as a pass)."""

    id: str
    title: str
    figure: str
    threshold: str = ""


# The spec's limit for SC-003, in milliseconds: p95 of one user's query over 10,000 tasks.
USER_QUERY_P95_LIMIT_MS = 50.0

CRITERIA: tuple[Criterion, ...] = (
    Criterion("SC-001", "Schema after `alembic upgrade head` matches the models",
              "differences between the migrated schema and the models' schema",
              "no difference"),
    Criterion("SC-002", "Foreign keys are enforced by the database",
              "dangling references rejected with 23503", "every dangling reference refused"),
    Criterion("SC-003", "User-scoped queries take under 50 ms on 10,000 tasks",
              "p50/p95 latency of `WHERE user_id = ...` over 10,000 tasks",
              f"p95 < {USER_QUERY_P95_LIMIT_MS:.0f} ms for a typical and for the heavy user"),
    Criterion("SC-004", "Connections are encrypted (SSL)",
              "pg_stat_ssl for the session's backend; refusal without SSL",
              "ssl=true through the engine; sslmode=require refused without SSL"),
    Criterion("SC-005", "Migrations round-trip without data loss",
              "rows surviving upgrade/downgrade of each revision", "every row survives"),
    Criterion("SC-006", "The pool serves 20 concurrent sessions",
              "sessions completed, peak connections, queueing, recovery",
              "20 of 20 sessions complete within the pool's limits"),
    Criterion("SC-007", "Timestamps are populated automatically",
              "rows whose created_at/updated_at the database filled in", "100% of rows"),
    Criterion("SC-008", "Deleting a parent cascades to 100% of its children",
              "children left after deleting their parents", "0 children left"),
    Criterion("SC-009", "User-scoped queries use their index",
              "plan node serving `WHERE user_id = ...` (EXPLAIN)",
              "a typical user's query is served by an index leading with user_id"),
    Criterion("SC-010", "Migrations run in reasonable time (benchmark)",
              "upgrade head / downgrade base duration"),
)


@dataclass
class Measuring:
    """What the block measured: set ``figure`` (with units); set ``passed = False`` to record
    a failed criterion without raising."""

    figure: str = ""
    passed: bool = True


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(error).__name__}: {line}" if line else type(error).__name__


@contextmanager
def measuring(ledger: Ledger, criterion: str, measured_by: str) -> Iterator[Measuring]:
    """Record one measurement of ``criterion`` (e.g. ``"SC-004"``) for the block it wraps.

    Yields a :class:`Measuring` for the block to fill. On normal exit records its figure and
    verdict; when the block raises, records a FAIL (the figure so far plus the error's first
    line) and re-raises. ``pytest.skip`` records nothing. Raises ``ValueError`` at once for an
    unknown criterion id.
    """
    if criterion not in {c.id for c in CRITERIA}:
        raise ValueError(f"unknown success criterion {criterion!r}: use SC-001..SC-010")
    measured = Measuring()
    try:
        yield measured
    except (pytest.skip.Exception, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        figure = "; ".join(part for part in (measured.figure, _first_line(error)) if part)
        ledger.measure(criterion, passed=False, figure=figure, measured_by=measured_by)
        raise
    ledger.measure(criterion, passed=measured.passed, figure=measured.figure or "held",
                   measured_by=measured_by)
