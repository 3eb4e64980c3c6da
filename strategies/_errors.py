"""Errors and warnings raised by `strategies` (each names the table and column)."""

from __future__ import annotations


class StrategyError(Exception):
    """Base class of the errors this package raises."""


class UnsupportedColumnError(StrategyError):
    """A column whose type has no strategy and whose value cannot be omitted."""

    def __init__(self, table: str, column: str, reason: str) -> None:
        self.table = table
        self.column = column
        super().__init__(
            f"{table}.{column}: {reason}. Register a strategy for it with "
            f"strategies.register_field_strategy({table!r}, {column!r}, <strategy>)."
        )


class UnsupportedConstraintError(StrategyError):
    """A constraint `valid()` cannot guarantee (e.g. an unrecognised CHECK, no connection)."""

    def __init__(self, table: str, rule: str, reason: str) -> None:
        self.table = table
        self.rule = rule
        super().__init__(
            f"{table}: constraint {rule!r}: {reason}. Pass connection=... so candidate rows are "
            f"checked by PostgreSQL, register a field strategy that satisfies it, or pass "
            f"strict=False to generate anyway (the constraint is then reported as skipped)."
        )


class SkippedConstraintWarning(UserWarning):
    """Emitted when a constraint or column is explicitly skipped (strict=False)."""
