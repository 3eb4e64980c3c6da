"""Migration timings, written to ``.schemafuzz/migrations.json`` for the report."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["DEFAULT_TIMINGS_PATH", "record_timings"]

DEFAULT_TIMINGS_PATH = Path(".schemafuzz") / "migrations.json"


def record_timings(
    timings: dict[str, float], alembic_ini: Path, path: Path = DEFAULT_TIMINGS_PATH
) -> Path:
    """Merge ``timings`` (label -> seconds) for ``alembic_ini`` into the JSON file at ``path``.

    The file maps the ini path to its latest timings, so several projects can share it. Returns
    the path written. Raises ``OSError`` if the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    entry = data.setdefault(str(alembic_ini), {})
    entry.update({k: round(v, 4) for k, v in timings.items()})
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path
