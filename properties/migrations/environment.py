"""Which ``env.py`` runs a project's revisions: the suite's generic one, or the project's own.

``--schemafuzz-alembic-env suite`` (the default) runs the project's revisions through
``properties/migrations/suite_env/env.py``, on the suite's connection: whatever the project's
env.py would read (a URL variable, the app's settings, an async engine), it is not run, so it
cannot point the migrations anywhere else. ``--schemafuzz-alembic-env project`` runs the project's
env.py, which must use the connection in ``config.attributes["connection"]``; the connection guard
(:mod:`schemafuzz.harness.guard`) stops one that opens its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["ALEMBIC_ENVS", "DEFAULT_ALEMBIC_ENV", "SUITE_ENV_DIR", "AlembicEnv",
           "parse_alembic_env"]

AlembicEnv = Literal["project", "suite"]
ALEMBIC_ENVS: tuple[AlembicEnv, ...] = ("suite", "project")
DEFAULT_ALEMBIC_ENV: AlembicEnv = "suite"
SUITE_ENV_DIR = Path(__file__).resolve().parent / "suite_env"


def parse_alembic_env(text: str | None) -> AlembicEnv:
    """Return ``"suite"`` (for None/empty too) or ``"project"``; raise ValueError naming the
    accepted values otherwise."""
    value = (text or DEFAULT_ALEMBIC_ENV).strip()
    if value == "project":
        return "project"
    if value == "suite":
        return "suite"
    raise ValueError(
        f"--schemafuzz-alembic-env {text!r} is not understood: use suite (the default: your "
        "revisions, the suite's env.py) or project (your env.py, which must use "
        "config.attributes['connection'])"
    )
