"""The suite's own tests run under schemafuzz's Hypothesis profile, as the properties do (the
plugin loads it only around the property modules; these tests are not among them)."""

from __future__ import annotations

from hypothesis import settings

from schemafuzz import profile_settings

settings.register_profile("schemafuzz-own-tests", profile_settings())
settings.load_profile("schemafuzz-own-tests")
