"""A project that has nothing to do with schemafuzz: its Hypothesis settings are its own."""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_hypothesis_defaults_are_untouched() -> None:
    active = settings.default
    assert active is not None
    # Hypothesis's own profile: "ci" (which it loads itself under CI=true) or "default".
    assert settings.get_current_profile_name() == ("ci" if os.environ.get("CI") else "default")
    assert active.max_examples == 100
    assert ".schemafuzz" not in repr(active.database)
    assert HealthCheck.function_scoped_fixture not in active.suppress_health_check


@given(st.integers())
def test_a_property(number: int) -> None:
    assert number == number
