"""Hypothesis profiles ``dev``, ``ci`` and ``nightly``, and which one a run uses."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

__all__ = ["PROFILES", "choose_profile", "examples_dir", "register_profiles"]

PROFILES = ("dev", "ci", "nightly")

# Examples are slow (each is a database round trip) and tests take the function-scoped `db`
# fixture on purpose: the plugin gives every example its own savepoint.
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
               HealthCheck.data_too_large]


def examples_dir() -> Path:
    """Return where the example database lives (``SCHEMAFUZZ_EXAMPLES_DIR`` or
    ``.schemafuzz/examples`` under the working directory)."""
    return Path(os.environ.get("SCHEMAFUZZ_EXAMPLES_DIR", ".schemafuzz/examples"))


def register_profiles() -> None:
    """Register the three profiles with Hypothesis; ours replace its built-in ``ci``, which
    would otherwise be loaded under ``CI=true`` and keeps no example database."""
    base = settings(deadline=None, suppress_health_check=_SUPPRESSED, print_blob=True,
                    database=DirectoryBasedExampleDatabase(examples_dir()))
    settings.register_profile("dev", base, max_examples=30, stateful_step_count=20)
    settings.register_profile("ci", base, max_examples=60, stateful_step_count=30,
                              derandomize=False)
    settings.register_profile("nightly", base, max_examples=2000, stateful_step_count=100,
                              derandomize=False)


def choose_profile(option: str | None) -> str:
    """Return the profile to load: the option, else ``SCHEMAFUZZ_PROFILE``, else ``ci`` when the
    ``CI`` variable is set to a true value, else ``dev``."""
    if option:
        return option
    if os.environ.get("SCHEMAFUZZ_PROFILE"):
        return os.environ["SCHEMAFUZZ_PROFILE"]
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        return "ci"
    return "dev"
