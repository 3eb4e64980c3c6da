"""Object-by-object differences between two :class:`~schemafuzz.strategies.LiveSchema` snapshots."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..strategies import LiveConstraint, LiveIndex, LiveSchema

__all__ = ["Difference", "diff_live_schemas"]

_CONSTRAINT_KINDS = {
    "p": "primary key",
    "u": "unique constraint",
    "f": "foreign key",
    "c": "CHECK constraint",
    "x": "exclusion constraint",
    "t": "constraint trigger",
    "n": "NOT NULL constraint",
}


@dataclass(frozen=True)
class Difference:
    """One object that differs between two schemas.

    ``kind`` is e.g. ``"column type"``, ``"foreign key"``, ``"enum type"``; ``table`` and
    ``column`` are set when the object belongs to one; ``left``/``right`` describe the object on
    each side (``None`` where it is missing), labelled by ``left_label``/``right_label``.
    """

    kind: str
    table: str | None
    column: str | None
    name: str | None
    left: str | None
    right: str | None
    left_label: str = "left"
    right_label: str = "right"

    @property
    def where(self) -> str:
        """Return ``table.column``, ``table`` or the object name, whichever applies."""
        if self.table and self.column:
            return f"{self.table}.{self.column}"
        return self.table or self.name or "<schema>"

    def __str__(self) -> str:
        named = f" {self.name!r}" if self.name and self.name != self.column else ""
        if self.left is None:
            return (
                f"{self.where}: {self.kind}{named} only in {self.right_label}: {self.right}"
            )
        if self.right is None:
            return f"{self.where}: {self.kind}{named} only in {self.left_label}: {self.left}"
        return (
            f"{self.where}: {self.kind}{named} differs: {self.left_label} has {self.left}, "
            f"{self.right_label} has {self.right}"
        )


def _column_of(columns: tuple[str, ...]) -> str | None:
    return columns[0] if len(columns) == 1 else None


def _match_by_definition(
    kind: str,
    left: Iterable[LiveConstraint | LiveIndex],
    right: Iterable[LiveConstraint | LiveIndex],
    make: type[Difference],
    labels: tuple[str, str],
) -> list[Difference]:
    """Pair objects with equal (table, definition); report leftovers and name mismatches."""

    def key(obj: LiveConstraint | LiveIndex) -> tuple[str, str]:
        return (obj.table, obj.definition)

    rights: dict[tuple[str, str], list[LiveConstraint | LiveIndex]] = {}
    for obj in right:
        rights.setdefault(key(obj), []).append(obj)
    out: list[Difference] = []
    unmatched_left: list[LiveConstraint | LiveIndex] = []
    for obj in left:
        bucket = rights.get(key(obj))
        if bucket:
            other = next((o for o in bucket if o.name == obj.name), bucket[0])
            bucket.remove(other)
            if other.name != obj.name:
                out.append(
                    make(f"{_label(kind, obj)} name", obj.table, _column_of(obj.columns),
                         obj.name, obj.name, other.name, *labels)
                )
        else:
            unmatched_left.append(obj)
    unmatched_right = [o for bucket in rights.values() for o in bucket]
    # Same name on both sides but another definition: report as one "differs" line.
    by_name_right = {(o.table, o.name): o for o in unmatched_right}
    for obj in unmatched_left:
        same_name = by_name_right.pop((obj.table, obj.name), obj)
        out.append(
            make(_label(kind, obj), obj.table, _column_of(obj.columns), obj.name,
                 obj.definition, same_name.definition if same_name is not obj else None,
                 *labels)
        )
    for obj in by_name_right.values():
        out.append(
            make(_label(kind, obj), obj.table, _column_of(obj.columns), obj.name,
                 None, obj.definition, *labels)
        )
    return out


def _label(kind: str, obj: LiveConstraint | LiveIndex) -> str:
    if isinstance(obj, LiveConstraint):
        return _CONSTRAINT_KINDS.get(obj.kind, f"constraint ({obj.kind})")
    return kind


def diff_live_schemas(
    left: LiveSchema, right: LiveSchema, left_label: str = "left", right_label: str = "right"
) -> list[Difference]:
    """Return every difference between two catalogues, ordered by table then kind.

    Tables, columns (type, nullability, default, identity, generated), constraints and indexes
    (matched by definition, so a renamed object shows up as a name difference), enum types
    (labels and their order), functions, triggers, sequences and views are compared. An empty
    list means the schemas are equal. Never raises.
    """
    labels = (left_label, right_label)
    out: list[Difference] = []

    def add(kind: str, table: str | None, column: str | None, name: str | None,
            lv: str | None, rv: str | None) -> None:
        out.append(Difference(kind, table, column, name, lv, rv, *labels))

    for t in sorted(left.tables - right.tables):
        add("table", t, None, t, "present", None)
    for t in sorted(right.tables - left.tables):
        add("table", t, None, t, None, "present")
    common = left.tables & right.tables
    for key in sorted(set(left.columns) | set(right.columns)):
        table, col = key
        if table not in common:
            continue
        lc, rc = left.columns.get(key), right.columns.get(key)
        if lc is None or rc is None:
            present = lc or rc
            assert present is not None
            add("column", table, col, col,
                lc.type if lc else None, rc.type if rc else None)
            continue
        if lc.type != rc.type:
            add("column type", table, col, None, lc.type, rc.type)
        if lc.nullable != rc.nullable:
            add("nullability", table, col, None,
                "NULL" if lc.nullable else "NOT NULL", "NULL" if rc.nullable else "NOT NULL")
        if lc.default != rc.default:
            add("server default", table, col, None,
                lc.default or "no default", rc.default or "no default")
        if lc.identity != rc.identity:
            add("identity", table, col, None, lc.identity or "none", rc.identity or "none")
        if lc.generated != rc.generated:
            add("generated", table, col, None, lc.generated or "none", rc.generated or "none")
    out.extend(
        _match_by_definition(
            "constraint",
            [c for c in left.constraints if c.table in common],
            [c for c in right.constraints if c.table in common],
            Difference,
            labels,
        )
    )
    out.extend(
        _match_by_definition(
            "index",
            [i for i in left.indexes if i.table in common],
            [i for i in right.indexes if i.table in common],
            Difference,
            labels,
        )
    )
    for name in sorted(set(left.enums) | set(right.enums)):
        lv, rv = left.enums.get(name), right.enums.get(name)
        if lv != rv:
            add("enum type", None, None, name,
                _labels(lv), _labels(rv))
    for sig in sorted(set(left.functions) | set(right.functions)):
        lf, rf = left.functions.get(sig), right.functions.get(sig)
        if lf != rf:
            add("function", None, None, sig, lf and ("present" if rf is None else lf),
                rf and ("present" if lf is None else rf))
    for key in sorted(set(left.triggers) | set(right.triggers)):
        lt, rt = left.triggers.get(key), right.triggers.get(key)
        if lt != rt:
            add("trigger", key[0], None, key[1], lt, rt)
    for seq in sorted(left.sequences ^ right.sequences):
        add("sequence", None, None, seq,
            "present" if seq in left.sequences else None,
            "present" if seq in right.sequences else None)
    for view in sorted(set(left.views) | set(right.views)):
        lv2, rv2 = left.views.get(view), right.views.get(view)
        if lv2 != rv2:
            add("view", None, None, view, lv2, rv2)
    out.sort(key=lambda d: (d.table or "", d.column or "", d.kind))
    return out


def _labels(labels: tuple[str, ...] | None) -> str | None:
    return None if labels is None else "labels (" + ", ".join(map(repr, labels)) + ")"
