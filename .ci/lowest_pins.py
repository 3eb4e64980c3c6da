"""Print one pip requirement per line pinning each `[project] dependencies` entry of
pyproject.toml to its lower bound (`NAME>=X` becomes `NAME==X`), for a virtualenv that proves
the bounds are true. An entry without a lower bound is printed as it is."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "dependencies"]:
    print(re.sub(r">=\s*([^,;\s]+)", r"==\1", requirement.split(",")[0]))
