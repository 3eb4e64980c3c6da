"""schemafuzz: property-based schema fuzzing for SQLModel + Alembic + PostgreSQL.

Installed, it is an opt-in pytest plugin (``pytest --schemafuzz``, or ``enabled = true`` in
``[tool.schemafuzz]``) and a command (``schemafuzz --models app.models``). For tests of your
own: :mod:`schemafuzz.strategies` (Hypothesis strategies derived from your models), the
fixtures of :mod:`schemafuzz.fixtures` (``schemafuzz_db``, ...) and
:func:`profile_settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hypothesis import settings

__all__ = ["profile_settings"]


def profile_settings() -> settings:
    """Return the Hypothesis settings of the run's schemafuzz profile (``dev``, ``ci`` or
    ``nightly``, chosen by ``--schemafuzz-profile``, ``SCHEMAFUZZ_PROFILE`` or ``CI``), to
    decorate a property of your own that uses the ``schemafuzz_db`` fixture::

        @profile_settings()
        @given(st.text())
        def test_titles(schemafuzz_db, title): ...

    The built-in properties get these settings without asking; your other Hypothesis tests
    keep their own. Raises hypothesis.errors.InvalidArgument for an unknown profile name in
    ``SCHEMAFUZZ_PROFILE``.
    """
    from hypothesis import settings

    from .harness.profiles import profile_name, register_profiles, run_profile

    name = profile_name(run_profile())
    try:
        return settings.get_profile(name)
    except Exception:  # registered by the plugin in active runs; otherwise register them now
        register_profiles()
        return settings.get_profile(name)
