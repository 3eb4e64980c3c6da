"""Which revision is responsible for a schema difference: the last one that changed the object.

Found by replaying the history one revision at a time and snapshotting the catalogue after each
step: the object's "fingerprint" (the column's definition, the constraints of that kind or the
indexes on that column, the trigger, the table's columns, or the enum/function/sequence/view by
name) is compared between steps.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..strategies import LiveSchema, read_live_schema
from .diff import Difference
from .runner import MigrationError, MigrationRunner, MultipleHeadsError

__all__ = ["attribute_differences"]


_CONTYPE = {"primary key": "p", "unique constraint": "u", "foreign key": "f", "fk": "f",
            "CHECK constraint": "c", "exclusion constraint": "x", "unique": "u"}
_COLUMN_KINDS = {"column", "column type", "nullability", "server default", "identity",
                 "generated", "type", "nullable", "default", "comment"}


def _fingerprint(cat: LiveSchema, diff: Difference) -> Any:
    """A comparable value for the object ``diff`` is about, as it stands in ``cat``."""
    kind = diff.kind.split(" (")[0].removesuffix(" name")
    if diff.table is None:
        name = diff.name or ""
        if kind.startswith("enum"):
            return cat.enums.get(name)
        if kind == "function":
            return cat.functions.get(name)
        if kind == "sequence":
            return name in cat.sequences
        return cat.views.get(name)
    table, column = diff.table, diff.column

    def touches(columns: tuple[str, ...]) -> bool:
        return column is None or column in columns

    if column and kind in _COLUMN_KINDS:
        return cat.columns.get((table, column))
    if kind == "trigger":
        return cat.triggers.get((table, diff.name or ""))
    if kind == "index":
        return sorted((i.name, i.definition) for i in cat.indexes
                      if i.table == table and touches(i.columns))
    if kind in _CONTYPE or kind.startswith("constraint"):
        contype = _CONTYPE.get(kind)
        return sorted((c.name, c.definition) for c in cat.constraints
                      if c.table == table and touches(c.columns)
                      and (contype is None or c.kind == contype))
    columns = [cat.columns[k] for k in cat.columns if k[0] == table]
    return (table in cat.tables, columns)


def attribute_differences(
    runner: MigrationRunner, differences: list[Difference]
) -> dict[Difference, str]:
    """Map each difference to ``"revision <id> (<message>)"`` — the last revision whose upgrade
    changed that object — or to ``"no revision"`` when no revision ever touches it.

    Uses ``runner``'s database as scratch (give it an empty one): it is downgraded to base and
    upgraded again to head. Never raises: if the replay fails, every difference maps to
    ``"revision unknown (<the migration error>)"``, so the differences are still reported.
    """
    snaps: list[tuple[str, LiveSchema]] = []

    def take(rev: str) -> None:
        with runner.connect() as connection:
            snaps.append((rev, read_live_schema(connection)))

    try:
        runner.downgrade("base")
        take("base")
        runner.upgrade("head", on_step=take)
    except (MigrationError, MultipleHeadsError) as exc:
        return dict.fromkeys(differences, f"revision unknown ({exc})")
    out: dict[Difference, str] = {}
    for diff in differences:
        culprit = "no revision"
        for (_, before), (rev, after) in itertools.pairwise(snaps):
            if _fingerprint(before, diff) != _fingerprint(after, diff):
                culprit = f"revision {runner.describe(rev)}"
        out[diff] = culprit
    return out
