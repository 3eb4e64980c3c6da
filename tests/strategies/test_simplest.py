"""simplest_value: a value per column kind within the column's bounds, or NO_VALUE."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from schemafuzz.strategies._catalogue import ColumnSpec
from schemafuzz.strategies._simplest import NO_VALUE, simplest_value
from schemafuzz.strategies._types import ValueKind

_COLUMN = sa.Column("c", sa.Integer)


def _spec(kind: ValueKind, **facts: Any) -> ColumnSpec:
    return dataclasses.replace(ColumnSpec("t", "c", "c", _COLUMN, kind), **facts)


@pytest.mark.parametrize(("kind", "facts", "expected"), [
    (ValueKind.INTEGER, {}, 0),
    (ValueKind.INTEGER, {"lower": (5, True)}, 5),
    (ValueKind.INTEGER, {"lower": (0, False)}, 1),  # gt=0
    (ValueKind.SMALLINT, {"upper": (-3, False)}, -4),  # lt=-3
    (ValueKind.BIGINT, {"lower": (-10, True), "upper": (10, True)}, 0),
    (ValueKind.DECIMAL, {"lower": (2, True)}, Decimal(2)),
    (ValueKind.BOOL, {}, False),
    (ValueKind.TEXT, {}, "a"),
    (ValueKind.TEXT, {"min_length": 4, "max_length": 10}, "aaaa"),
    (ValueKind.TEXT, {"string_format": "email", "min_length": 8}, "aaa@a.io"),
    (ValueKind.UUID, {}, uuid.UUID(int=0, version=4)),
    (ValueKind.UUID, {"as_uuid": False}, str(uuid.UUID(int=0, version=4))),
    (ValueKind.DATETIME_TZ, {}, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)),
    (ValueKind.DATE, {}, dt.date(2000, 1, 1)),
])
def test_a_kind_with_a_simplest_value_gets_it_within_its_bounds(
        kind: ValueKind, facts: dict[str, Any], expected: Any) -> None:
    assert simplest_value(_spec(kind, **facts)) == expected


@pytest.mark.parametrize(("kind", "facts"), [
    (ValueKind.DECIMAL, {"lower": (0, False)}),  # gt=0 on a decimal: no nearest value
    (ValueKind.INTEGER, {"lower": (0.5, True)}),
    (ValueKind.TEXT, {"pattern": "^[A-Z]+$"}),
    (ValueKind.TEXT, {"string_format": "uri"}),
    (ValueKind.TEXT, {"max_length": 0}),
    (ValueKind.JSON, {}),
    (ValueKind.FLOAT, {}),
])
def test_a_kind_or_rule_without_one_says_so(kind: ValueKind, facts: dict[str, Any]) -> None:
    assert simplest_value(_spec(kind, **facts)) is NO_VALUE
