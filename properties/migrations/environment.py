"""Which ``env.py`` runs a project's revisions: the project's own, or the suite's generic one.

``--alembic-env project`` (default) runs the project's env.py, which must use the connection in
``config.attributes["connection"]`` (see :mod:`.runner`). ``--alembic-env suite`` runs the
project's revisions through ``properties/migrations/suite_env/env.py`` instead, for projects
whose env.py needs settings the suite cannot know (it reads its own URL variable, loads an app
factory, ...): only the revisions (``version_locations``) are the project's.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from alembic.config import Config
from alembic.script import ScriptDirectory

__all__ = ["ALEMBIC_ENVS", "SUITE_ENV_DIR", "AlembicEnv", "parse_alembic_env", "use_suite_env"]

AlembicEnv = Literal["project", "suite"]
ALEMBIC_ENVS: tuple[AlembicEnv, ...] = ("project", "suite")
SUITE_ENV_DIR = Path(__file__).resolve().parent / "suite_env"


def parse_alembic_env(text: str | None) -> AlembicEnv:
    """Return ``"project"`` (for None/empty too) or ``"suite"``; raise ValueError naming the
    accepted values otherwise."""
    value = (text or "project").strip()
    if value == "project":
        return "project"
    if value == "suite":
        return "suite"
    raise ValueError(
        f"--alembic-env {text!r} is not understood: use project (run the project's env.py) or "
        "suite (run its revisions with the suite's own env.py)"
    )


def use_suite_env(cfg: Config) -> Config:
    """Point ``cfg`` (a project's Alembic Config) at the suite's env.py, keeping the project's
    revisions; returns ``cfg``.

    The project's version folders are resolved first, with the project's own settings
    (``script_location``, ``version_locations``, ``path_separator``; Alembic also applies
    ``prepend_sys_path`` then, so revisions can import the project's modules). Raises Alembic's
    ``CommandError`` when the project's script location does not exist.
    """
    # `_version_locations` is how Alembic itself resolves them (package resources, the
    # `versions` default); reimplementing it would drift from Alembic.
    versions = [str(path) for path in ScriptDirectory.from_config(cfg)._version_locations]
    cfg.set_main_option("script_location", str(SUITE_ENV_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations",
                        os.pathsep.join(v.replace("%", "%%") for v in versions))
    # Already on sys.path (from_config above); split with another separator it could mislead.
    if cfg.get_main_option("prepend_sys_path") is not None:
        cfg.remove_main_option("prepend_sys_path")
    return cfg
