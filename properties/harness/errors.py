"""The one exception type the harness raises for problems a user can fix."""

from __future__ import annotations


class HarnessError(RuntimeError):
    """A setup problem with a one-line explanation and the fix in it.

    The pytest plugin turns it into a clean ``pytest.exit`` message instead of a traceback,
    so the message must be complete on its own and must never contain a password.
    """
