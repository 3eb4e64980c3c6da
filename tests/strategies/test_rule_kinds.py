"""The rule book: every constraint kind has one entry, and its check agrees with its breaker."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemafuzz.strategies import Kind
from schemafuzz.strategies._catalogue import build
from schemafuzz.strategies._rule_kinds import RULE_KINDS, VIOLABLE_KINDS, satisfied
from schemafuzz.strategies._types import ValueKind, kind_of

from .models_numeric import Category, Item


def test_every_kind_has_one_entry():
    assert set(RULE_KINDS) == set(Kind)
    assert set(Kind) - {Kind.SERVER_DEFAULT, Kind.UNSUPPORTED} == VIOLABLE_KINDS


def test_value_kinds_are_the_enum():
    kind, _ = kind_of(Item.__table__.c.price.type)  # type: ignore[attr-defined]
    assert kind is ValueKind.DECIMAL and kind == "decimal"


def _rule(spec, kind, column):
    return next(c for c in spec.constraints if c.kind == kind and c.columns == (column,))


@pytest.mark.parametrize(("kind", "column", "value", "kept"), [
    (Kind.MAX_LENGTH, "code", "x" * 12, True),
    (Kind.MAX_LENGTH, "code", "x" * 13, False),
    (Kind.RANGE, "score", -100, True),
    (Kind.RANGE, "score", -101, False),
    (Kind.TYPE, "score", 2**15, False),
    (Kind.NOT_NULL, "code", None, False),
    (Kind.MAX_LENGTH, "code", None, True),  # a NULL keeps every rule but NOT NULL
])
def test_one_column_rules_are_checked_on_the_value(kind, column, value, kept):
    spec = build(Category)
    assert satisfied(spec, _rule(spec, kind, column), {column: value}, {}) is kept


def test_digits_and_uniqueness_are_checked_against_the_rows_before():
    item = build(Item)
    places = next(c for c in item.of_kind(Kind.DIGITS) if "places" in c.params)
    assert satisfied(item, places, {"price": Decimal("1.25")}, {})
    assert not satisfied(item, places, {"price": Decimal("1.255")}, {})
    category = build(Category)
    unique = next(c for c in category.of_kind(Kind.UNIQUE) if c.columns == ("code",))
    before = {"sf_category": [{"code": "a"}]}
    assert not satisfied(category, unique, {"code": "a"}, before)
    assert satisfied(category, unique, {"code": "b"}, before)


@pytest.mark.parametrize("kind", [Kind.MAX_LENGTH, Kind.RANGE, Kind.TYPE, Kind.NOT_NULL])
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_breakers_patches_break_what_its_check_checks(kind, data):
    spec = build(Category)
    rule = _rule(spec, kind, "code" if kind in (Kind.MAX_LENGTH, Kind.NOT_NULL) else "score")
    breaks = RULE_KINDS[kind].breaks
    assert breaks is not None
    patches = breaks(spec, rule, {}, [])
    assert patches
    strategy, _ = data.draw(st.sampled_from(patches))
    assert not satisfied(spec, rule, data.draw(strategy), {})
