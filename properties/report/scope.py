"""How much of the suite one run (or several merged) ran: counted by ``schemafuzz.run_scope``,
kept in the ledger, shown at the head of every report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunScope"]


@dataclass
class RunScope:
    """What a run ran of the built-in properties: ``collected`` before any deselection,
    ``ran`` (started), and the property modules it did not collect."""

    collected: int = 0
    ran: int = 0
    missing: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """Whether the run left some of the suite out (always False when it collected none)."""
        return self.collected > 0 and (self.ran < self.collected or bool(self.missing))

    def describe(self) -> str:
        """``partial: 12 of 85 properties ran (not collected: test_migrations.py)``, or
        ``complete: all 85 properties ran``."""
        if not self.partial:
            return f"complete: all {self.collected} properties ran"
        text = f"partial: {self.ran} of {self.collected} collected properties ran"
        return text + (f" (not collected: {', '.join(self.missing)})" if self.missing else "")

    def to_json(self) -> dict[str, Any]:
        """The scope as the ledger stores it."""
        return {"collected": self.collected, "ran": self.ran, "missing": self.missing}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunScope:
        """A scope read back from :meth:`to_json`; raises KeyError/TypeError on a bad one."""
        return cls(int(data["collected"]), int(data["ran"]), list(data["missing"]))

    def add(self, other: RunScope) -> RunScope:
        """This scope and ``other``'s (two workers or two shards of one run, which each collect
        the whole selection): the larger collection, the starts added up, and the modules
        neither collected."""
        return RunScope(max(self.collected, other.collected), self.ran + other.ran,
                        sorted(set(self.missing) & set(other.missing)))
