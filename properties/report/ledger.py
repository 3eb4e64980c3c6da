"""The constraint-coverage ledger: for each constraint, how often it was exercised with valid
and with violating data, and what came of it (held, or a finding)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .scope import RunScope

__all__ = ["Entry", "Ledger", "Measurement"]

_NOTE_KINDS = ("drift", "unguarded", "accepted", "advice", "coerced", "unsupported")


@dataclass
class Entry:
    """One constraint's line in the report."""

    table: str
    column: str
    rule: str
    kind: str
    layers: list[str]
    valid: int = 0
    violations: int = 0
    findings: list[str] = field(default_factory=list)  # drift: the layers disagree
    unguarded: list[str] = field(default_factory=list)  # a rule only the model enforces
    accepted: list[str] = field(default_factory=list)  # unguarded, accepted by the project
    advice: list[str] = field(default_factory=list)  # same end state, a better way
    coerced: list[str] = field(default_factory=list)  # PostgreSQL coerces instead of refusing
    unsupported: list[str] = field(default_factory=list)  # why no value is generated for it

    @property
    def key(self) -> tuple[str, str, str]:
        return self.table, self.column, self.rule

    @property
    def outcome(self) -> str:
        """``FINDING`` when any check disagreed, ``UNGUARDED`` when only the model enforces
        the rule, ``held`` when exercised both ways (an ON DELETE rule: when the cascade property
        deleted parents), ``valid only`` / ``violations only`` / ``not exercised`` otherwise;
        accepted, coerced and advised rules say so after it."""
        if self.findings:
            return "FINDING"
        if self.unguarded:
            return "UNGUARDED"
        if self.unsupported:
            return "not generated"
        if self.kind == "on_delete":  # exercised by deleting parents, not by rows
            outcome = "held" if self.valid else "not exercised"
        elif self.valid and self.violations:
            outcome = "held"
        elif self.valid:
            outcome = "valid only"
        elif self.violations:
            outcome = "violations only"
        else:
            outcome = "not exercised"
        if self.coerced:
            outcome += " (by coercion)"
        if self.accepted:
            outcome += " (unguarded, accepted)"
        if self.advice:
            outcome += " (advice)"
        return outcome

    def notes(self, kind: str) -> list[str]:
        """The texts recorded under ``kind``: drift, unguarded, accepted, advice, coerced or
        unsupported."""
        return self.findings if kind == "drift" else list(getattr(self, kind))


@dataclass
class Measurement:
    """One figure measured for a success criterion (SC-001..SC-010) by one property."""

    criterion: str  # "SC-004"
    passed: bool
    figure: str  # what was measured, with units: "p95 0.41 ms over 200 queries"
    measured_by: str  # the pytest node id of the property that measured it


class Ledger:
    """Collects entries during a run; mergeable across processes through JSON files."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], Entry] = {}
        self.measurements: list[Measurement] = []
        self.inapplicable: dict[str, str] = {}  # criterion -> why it does not apply
        self.unmeasurable: dict[str, str] = {}  # criterion -> why this run cannot measure it
        # The schema under test as read from the database (report.snapshot), or None when no
        # property of the run built it.
        self.schema: dict[str, Any] | None = None
        # How much of the suite the run ran, or None when it ran no built-in property.
        self.scope: RunScope | None = None
        # The test whose examples are running (the plugin sets it around each test's call),
        # and, per rule, kind and test, the note that test recorded last and the tests (None:
        # outside a test) behind each note: see finding().
        self.recording_test: str | None = None
        self._latest: dict[tuple[tuple[str, str, str], str, str], str] = {}
        self._sources: dict[tuple[tuple[str, str, str], str, str], set[str | None]] = {}

    def __repr__(self) -> str:
        # Hypothesis prints a failing test's arguments, fixtures included: a readable summary.
        return f"Ledger(constraints={len(self.entries)}, measurements={len(self.measurements)})"

    def not_applicable(self, criterion: str, why: str) -> None:
        """Record that ``criterion`` does not apply to what is under test (e.g. migration
        criteria when no Alembic project is configured); the report says so with ``why``."""
        self.inapplicable[criterion] = why

    def not_measurable(self, criterion: str, why: str) -> None:
        """Record that this run cannot measure ``criterion`` (e.g. SSL on a server built
        without it): the report says "not measured" with ``why`` even when another property
        measured part of it, unless a measurement failed."""
        self.unmeasurable[criterion] = why

    def measure(self, criterion: str, *, passed: bool, figure: str, measured_by: str) -> None:
        """Record a measurement for a success criterion such as ``SC-004``."""
        self.measurements.append(Measurement(criterion, passed, figure, measured_by))

    def measurements_of(self, criterion: str) -> list[Measurement]:
        """Every measurement recorded for ``criterion`` (empty when none was)."""
        return [m for m in self.measurements if m.criterion == criterion]

    def declare(self, table: str, column: str, rule: str, kind: str,
                layers: Iterable[str]) -> Entry:
        """Add a constraint to the report (idempotent) and return its entry."""
        key = (table, column, rule)
        if key not in self.entries:
            self.entries[key] = Entry(table, column, rule, kind, sorted(layers))
        return self.entries[key]

    def count(self, table: str, column: str, rule: str, *, valid: int = 0,
              violations: int = 0) -> None:
        """Add examples to a declared constraint; raises KeyError for an undeclared one."""
        entry = self.entries[(table, column, rule)]
        entry.valid += valid
        entry.violations += violations

    def finding(self, table: str, column: str, rule: str, text: str, kind: str = "drift"
                ) -> None:
        """Record a finding on a declared constraint (kept once) under ``kind``: ``drift``
        (the default), ``unguarded``, ``accepted``, ``advice``, ``coerced`` or ``unsupported``;
        raises KeyError for an undeclared constraint.

        Within one test (``recording_test``) a later note on the same constraint and kind
        replaces the test's earlier one, unless another test recorded that one too: while
        Hypothesis shrinks a failure every smaller example notes its own values, and the last
        is the example Hypothesis reports. One bug, one line, not one per shrink step."""
        key = (table, column, rule)
        entry = self.entries[key]
        texts = entry.findings if kind == "drift" else getattr(entry, kind)
        test = self.recording_test
        previous = self._latest.get((key, kind, test)) if test is not None else None
        if previous is not None and previous != text:
            sources = self._sources.get((key, kind, previous), set())
            sources.discard(test)
            if not sources and previous in texts:
                if text in texts:
                    texts.remove(previous)
                else:
                    texts[texts.index(previous)] = text
        if text not in texts:
            texts.append(text)
        self._sources.setdefault((key, kind, text), set()).add(test)
        if test is not None:
            self._latest[(key, kind, test)] = text

    def merge(self, other: Ledger) -> None:
        """Add ``other``'s counts and findings into this ledger."""
        for key, theirs in other.entries.items():
            mine = self.declare(theirs.table, theirs.column, theirs.rule, theirs.kind,
                                theirs.layers)
            mine.valid += theirs.valid
            mine.violations += theirs.violations
            for kind in _NOTE_KINDS:
                for text in theirs.notes(kind):
                    self.finding(mine.table, mine.column, mine.rule, text, kind)
            self.entries[key] = mine
        self.measurements.extend(other.measurements)
        self.inapplicable.update(other.inapplicable)
        self.unmeasurable.update(other.unmeasurable)
        self.schema = self.schema or other.schema
        if other.scope is not None:
            self.scope = other.scope if self.scope is None else self.scope.add(other.scope)

    def dump(self, path: Path) -> None:
        """Write the ledger as JSON to ``path`` (parent folders created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "entries": [asdict(e) for e in self.entries.values()],
            "measurements": [asdict(m) for m in self.measurements],
            "inapplicable": self.inapplicable,
            "unmeasurable": self.unmeasurable,
            "schema": self.schema,
            "scope": None if self.scope is None else self.scope.to_json(),
        }, indent=1))

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """Read a ledger written by ``dump``; raises OSError/ValueError on a bad file."""
        ledger = cls()
        data = json.loads(path.read_text())
        for raw in data["entries"]:
            entry = Entry(**raw)
            ledger.entries[entry.key] = entry
        ledger.measurements = [Measurement(**raw) for raw in data["measurements"]]
        ledger.inapplicable = dict(data.get("inapplicable", {}))
        ledger.unmeasurable = dict(data.get("unmeasurable", {}))
        ledger.schema = data.get("schema")
        ledger.scope = RunScope.from_json(data["scope"]) if data.get("scope") else None
        return ledger

    def sorted_entries(self) -> list[Entry]:
        """Entries ordered by table, column and rule."""
        return [self.entries[key] for key in sorted(self.entries)]
