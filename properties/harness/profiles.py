"""Hypothesis profiles ``dev``, ``ci`` and ``nightly``, which one a run uses, and where their
example database lives (the local folder, optionally shared through GitHub or Redis).

Shared failures (``SCHEMAFUZZ_SHARED_EXAMPLES``):

- ``github:OWNER/REPO[:ARTIFACT]``: the example database the nightly workflow uploads as a GitHub
  Actions artifact (default name ``schemafuzz-examples``) is read back with Hypothesis'
  ``GitHubArtifactDatabase``, read-only, next to the local one (``MultiplexedDatabase``): the
  nightly's failures replay first on your machine, and new failures are saved locally only.
  Needs ``GITHUB_TOKEN`` for private repositories (a token with ``actions:read``).
- ``redis://[:PASSWORD@]HOST:PORT/DB`` (or ``rediss://``): Hypothesis' ``RedisExampleDatabase``,
  read *and* written, next to the local one: for teams whose machines all run the suite. Needs
  the ``redis`` package (``pip install 'schemafuzz[redis]'``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import (
    DirectoryBasedExampleDatabase,
    ExampleDatabase,
    GitHubArtifactDatabase,
    MultiplexedDatabase,
    ReadOnlyDatabase,
)

from .errors import HarnessError

__all__ = [
    "DEFAULT_ARTIFACT",
    "PROFILES",
    "SHARED_EXAMPLES_VARIABLE",
    "choose_profile",
    "example_database",
    "examples_dir",
    "profile_name",
    "register_profiles",
    "run_profile",
    "set_run_profile",
]

PROFILES = ("dev", "ci", "nightly")
SHARED_EXAMPLES_VARIABLE = "SCHEMAFUZZ_SHARED_EXAMPLES"
DEFAULT_ARTIFACT = "schemafuzz-examples"  # the name .github/workflows/nightly.yml uploads

# Examples are slow (each is a database round trip) and tests take the function-scoped `db`
# fixture on purpose: the plugin gives every example its own savepoint.
# Rows breaking exactly one rule are found by filtering (strategies' own assume()), and
# varchar(5000) columns make large minimal examples; neither is a problem with the test.
_SUPPRESSED = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
               HealthCheck.data_too_large, HealthCheck.large_base_example,
               HealthCheck.filter_too_much]

# GitHub's rules: owner is letters, digits and single hyphens; a repository name also allows
# `.` and `_`. An artifact name is anything without path separators or quotes.
_GITHUB = re.compile(r"github:(?P<owner>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+)"
                     r"(?::(?P<artifact>[^/\\:\"<>|*?]+))?")


def examples_dir() -> Path:
    """Return where the example database lives (``SCHEMAFUZZ_EXAMPLES_DIR`` or
    ``.schemafuzz/examples`` under the working directory)."""
    return Path(os.environ.get("SCHEMAFUZZ_EXAMPLES_DIR", ".schemafuzz/examples"))


def _redis_database(spec: str) -> ExampleDatabase:
    try:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
    except ImportError:
        raise HarnessError(
            f"{SHARED_EXAMPLES_VARIABLE}=redis://...: the Redis example database needs the "
            "`redis` package: pip install 'schemafuzz[redis]' (or: pip install redis)"
        ) from None
    try:
        client = redis.Redis.from_url(spec)  # connects lazily, on the first read or write
    except ValueError as error:
        raise HarnessError(f"{SHARED_EXAMPLES_VARIABLE}: not a Redis URL: {error}") from None
    return RedisExampleDatabase(client, key_prefix=b"schemafuzz-example:")


def _github_database(spec: str) -> ExampleDatabase:
    match = _GITHUB.fullmatch(spec)
    if match is None:
        raise HarnessError(
            f"{SHARED_EXAMPLES_VARIABLE}={spec!r}: write github:OWNER/REPO or "
            "github:OWNER/REPO:ARTIFACT (the artifact the nightly workflow uploads)"
        )
    artifact = match["artifact"] or DEFAULT_ARTIFACT
    # Downloaded zips are cached (a day) beside the local examples, not in .hypothesis/.
    cache = examples_dir().parent / "github-artifacts" / artifact
    return ReadOnlyDatabase(GitHubArtifactDatabase(match["owner"], match["repo"],
                                                   artifact_name=artifact, path=cache))


def example_database(shared: str | None = None) -> ExampleDatabase:
    """Return the example database of the profiles: the local folder (:func:`examples_dir`),
    multiplexed with the shared one that ``shared`` names (see the module docstring; the
    plugin passes ``$SCHEMAFUZZ_SHARED_EXAMPLES``).

    Raises HarnessError for a value that is neither ``github:...`` nor ``redis(s)://...``, and
    for a Redis URL when the ``redis`` package is missing (the message says what to install).
    Nothing is downloaded or connected here: both shared databases are lazy.
    """
    local = DirectoryBasedExampleDatabase(examples_dir())
    spec = (shared or "").strip()
    if not spec:
        return local
    if spec.startswith("github:"):
        return MultiplexedDatabase(local, _github_database(spec))
    if spec.startswith(("redis://", "rediss://", "unix://")):
        return MultiplexedDatabase(local, _redis_database(spec))
    raise HarnessError(
        f"{SHARED_EXAMPLES_VARIABLE}={spec!r} is not understood: use github:OWNER/REPO[:ARTIFACT] "
        "(read the nightly's artifact) or redis://HOST:PORT/DB (a team's shared Redis)"
    )


def profile_name(profile: str) -> str:
    """The name Hypothesis knows one of :data:`PROFILES` by (``schemafuzz-dev``, ...): prefixed,
    so a project's own ``dev`` or ``ci`` profile is neither replaced nor loaded by the suite."""
    return f"schemafuzz-{profile}"


def register_profiles(shared: str | None = None) -> None:
    """Register the three profiles with Hypothesis under :func:`profile_name`. Registering
    loads nothing: the plugin loads one only while the property modules are imported.

    The database is :func:`example_database` of ``shared`` (default:
    ``$SCHEMAFUZZ_SHARED_EXAMPLES``); raises HarnessError as that function does.
    """
    if shared is None:
        shared = os.environ.get(SHARED_EXAMPLES_VARIABLE)
    base = settings(deadline=None, suppress_health_check=_SUPPRESSED, print_blob=True,
                    database=example_database(shared))
    settings.register_profile(profile_name("dev"), base, max_examples=30, stateful_step_count=20)
    settings.register_profile(profile_name("ci"), base, max_examples=60, stateful_step_count=30,
                              derandomize=False)
    settings.register_profile(profile_name("nightly"), base, max_examples=2000,
                              stateful_step_count=100,
                              derandomize=False)


_run_profile: str | None = None  # the one the plugin resolved for this run


def set_run_profile(profile: str) -> None:
    """Record the profile the plugin resolved for this run (see :func:`run_profile`)."""
    global _run_profile
    _run_profile = profile


def run_profile() -> str:
    """The profile of this run: the one the plugin resolved when schemafuzz is active, else
    :func:`choose_profile` of no option."""
    return _run_profile or choose_profile(None)


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
