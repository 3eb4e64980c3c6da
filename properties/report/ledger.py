"""The constraint-coverage ledger: for each constraint, how often it was exercised with valid
and with violating data, and what came of it (held, or a finding)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["Entry", "Ledger"]


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
    findings: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.table, self.column, self.rule

    @property
    def outcome(self) -> str:
        """``FINDING`` when any check disagreed, ``held`` when exercised both ways,
        ``valid only`` / ``violations only`` / ``not exercised`` otherwise."""
        if self.findings:
            return "FINDING"
        if self.valid and self.violations:
            return "held"
        if self.valid:
            return "valid only"
        if self.violations:
            return "violations only"
        return "not exercised"


class Ledger:
    """Collects entries during a run; mergeable across processes through JSON files."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], Entry] = {}

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

    def finding(self, table: str, column: str, rule: str, text: str) -> None:
        """Record a disagreement between layers on a declared constraint (kept once)."""
        entry = self.entries[(table, column, rule)]
        if text not in entry.findings:
            entry.findings.append(text)

    def merge(self, other: Ledger) -> None:
        """Add ``other``'s counts and findings into this ledger."""
        for key, theirs in other.entries.items():
            mine = self.declare(theirs.table, theirs.column, theirs.rule, theirs.kind,
                                theirs.layers)
            mine.valid += theirs.valid
            mine.violations += theirs.violations
            for text in theirs.findings:
                if text not in mine.findings:
                    mine.findings.append(text)
            self.entries[key] = mine

    def dump(self, path: Path) -> None:
        """Write the ledger as JSON to ``path`` (parent folders created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(e) for e in self.entries.values()], indent=1))

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """Read a ledger written by ``dump``; raises OSError/ValueError on a bad file."""
        ledger = cls()
        for raw in json.loads(path.read_text()):
            entry = Entry(**raw)
            ledger.entries[entry.key] = entry
        return ledger

    def sorted_entries(self) -> list[Entry]:
        """Entries ordered by table, column and rule."""
        return [self.entries[key] for key in sorted(self.entries)]
