"""docs/record_migration_session.py records the reference backend's migration workflow from a
real run: the cast holds what Alembic and psql printed, apply to roll back to apply again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_recording_is_a_cast_of_the_real_workflow(tmp_path: Path) -> None:
    cast = tmp_path / "workflow.cast"
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "record_migration_session.py"),
                             "--out", str(cast)], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    header, *events = cast.read_text().splitlines()
    assert json.loads(header)["version"] == 2
    printed = "".join(json.loads(event)[2] for event in events)
    order = ["upgrade head", "Running upgrade 0001 -> 0002", "0002 (head)", "downgrade -1",
             "Running downgrade 0002 -> 0001", "\r\n0001\r\n", "Running upgrade 0001 -> 0002",
             "No new upgrade operations detected."]
    at = 0
    for text in order:
        at = printed.index(text, at)  # each step's output, in the workflow's order
    assert "conversations" in printed and "messages" in printed  # \dt before the rollback
