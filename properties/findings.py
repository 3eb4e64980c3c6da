"""Findings: disagreements between the model, the SQLAlchemy metadata and the live database,
phrased so the failure message alone says what to fix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ADVICE",
    "DRIFT",
    "KINDS",
    "NO_VALUE",
    "UNGUARDED",
    "AppCodeError",
    "Finding",
    "FindingError",
    "describe_value",
    "same_stored_value",
]

# The three kinds of finding. Drift: the model, the metadata and the database disagree (fails).
# Unguarded: a rule only the model enforces, which SQL clients and unvalidated ``table=True``
# instances bypass (fails unless the project accepts it). Advice: the layers end in the same
# state, but there is a better way (never fails).
DRIFT, UNGUARDED, ADVICE = "drift", "unguarded", "advice"
KINDS = (DRIFT, UNGUARDED, ADVICE)
_LABELS = {DRIFT: "FINDING", UNGUARDED: "UNGUARDED", ADVICE: "ADVICE"}

NO_VALUE: Any = type("NoValue", (), {"__repr__": lambda self: "NO_VALUE"})()
"""A finding about a structure (a schema object, a cascade) rather than a value."""


def describe_value(value: Any, limit: int = 80) -> str:
    """A short repr of a value for messages: long strings show their length and ends."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit // 2]!r}…{value[-8:]!r} ({len(value)} chars)"
    text = repr(value)
    return text if len(text) <= limit * 2 else text[: limit * 2] + "…"


@dataclass(frozen=True)
class Finding:
    """One disagreement, with everything a report needs to locate it."""

    table: str
    column: str
    rule: str
    layers: Iterable[str]
    what: str
    value: Any = NO_VALUE
    kind: str = DRIFT
    fix: str = ""  # both places the fix could go (schemafuzz.fixes), '' when unknown

    @property
    def note(self) -> str:
        """What the reports list for it: what was found, and its fix when known."""
        return f"{self.what}; fix: {self.fix}" if self.fix else self.what

    def __str__(self) -> str:
        layers = ", ".join(sorted(str(layer) for layer in self.layers)) or "nothing"
        name = f"{self.table}.{self.column}" if self.column else self.table
        where = f"{name} [{self.rule}; declared by {layers}]"
        text = f"{_LABELS[self.kind]} {where}: {self.what}"
        if self.value is not NO_VALUE:
            text += f"; minimal value: {describe_value(self.value)}"
        return f"{text}; fix: {self.fix}" if self.fix else text


def same_stored_value(sent: Any, stored: Any) -> bool:
    """True when ``stored`` (as read back) is the value ``sent``: strings character-exact,
    datetimes the same instant and both aware (a naive read-back never equals an aware
    value), everything else by equality."""
    if isinstance(sent, dt.datetime) and isinstance(stored, dt.datetime):
        if (sent.tzinfo is None) != (stored.tzinfo is None):
            return False
        return sent == stored
    if type(sent) is str or type(stored) is str:
        return type(sent) is type(stored) and sent == stored
    return bool(sent == stored)


class AppCodeError(Exception):
    """The app's code or SQLModel/SQLAlchemy refused a row before PostgreSQL saw it (a
    default factory, a type's ``process_bind_param``, a validator): a finding about the app,
    naming the table and, where it can be found, the column."""

    def __init__(self, table: str, column: str, message: str) -> None:
        super().__init__(f"{table}.{column}: {message}")
        self.table, self.column, self.message = table, column, message


class FindingError(AssertionError):
    """An assertion whose message is the whole finding (a migration step that fails, a schema
    that differs from the models, rows a revision loses): its test's report is the message and
    the test's line, not a traceback through Alembic and SQLAlchemy (``--full-trace`` keeps
    the traceback)."""
