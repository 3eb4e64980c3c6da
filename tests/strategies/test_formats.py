"""E-mail addresses and URLs built valid by construction: what ``EmailStr`` and ``HttpUrl``
accept and return unchanged, within a column's length bounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import EmailStr, HttpUrl, TypeAdapter

from schemafuzz.strategies import UnsupportedColumnError
from schemafuzz.strategies._formats import emails, urls

EMAIL = TypeAdapter(EmailStr)
URL = TypeAdapter(HttpUrl)
BOUNDS = st.tuples(st.integers(0, 140), st.integers(6, 300)).filter(lambda b: b[0] <= b[1])


@settings(max_examples=150, deadline=None)
@given(data=st.data(), bounds=BOUNDS)
def test_emails_are_valid_unchanged_and_within_bounds(data: st.DataObject,
                                                      bounds: tuple[int, int]) -> None:
    low, high = bounds
    try:
        strategy = emails(low, high, table="user", column="email")
    except UnsupportedColumnError:
        assert low > 131  # only bounds no address can meet are refused
        return
    value = data.draw(strategy)
    assert max(low, 6) <= len(value) <= high
    assert EMAIL.validate_python(value) == value


@settings(max_examples=150, deadline=None)
@given(data=st.data(), bounds=BOUNDS.filter(lambda b: b[1] >= 13))
def test_urls_are_valid_unchanged_and_within_bounds(data: st.DataObject,
                                                    bounds: tuple[int, int]) -> None:
    low, high = bounds
    value = data.draw(urls(low, high))
    assert max(low, 13) <= len(value) <= high
    assert str(URL.validate_python(value)) == value


def test_bounds_no_address_fits_name_the_column() -> None:
    with pytest.raises(UnsupportedColumnError, match=r"user\.email"):
        emails(0, 4, table="user", column="email")
