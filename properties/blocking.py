"""Root causes that block the tests depending on them: one failure, the rest skipped.

When the project's revisions cannot build the schema, every property that needs the schema
would fail on the same cause. The first test to meet a :class:`Blocker` fails with its
finding; every later one is skipped as "blocked by FINDING ...", naming the test that
reported it. Under pytest-xdist each worker reports the blocker once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import pytest

__all__ = ["UPGRADE_FROM_EMPTY", "Blocker", "blocker"]

# The key of the blocker "the revisions cannot build the schema from an empty database".
UPGRADE_FROM_EMPTY = "upgrade from empty"

_BLOCKERS_KEY = pytest.StashKey[dict[str, "Blocker"]]()


@dataclass
class Blocker:
    """A finding that blocks the tests depending on it."""

    finding: str
    reported_by: str | None = None

    def stop(self, nodeid: str) -> NoReturn:
        """Fail the test ``nodeid`` with the finding if no test has reported it yet, else skip
        it as blocked by the finding."""
        if self.reported_by is None:
            self.reported_by = nodeid
            pytest.fail(f"FINDING {self.finding}", pytrace=False)
        pytest.skip(f"blocked by FINDING {self.finding[:300]} (reported by {self.reported_by})")


def blocker(config: pytest.Config, key: str, finding: str | None = None) -> Blocker | None:
    """The run's blocker under ``key``: recorded with ``finding`` if none is yet; None when
    there is none and no ``finding`` is given."""
    known = config.stash.setdefault(_BLOCKERS_KEY, {})
    if key not in known and finding is not None:
        known[key] = Blocker(finding)
    return known.get(key)
