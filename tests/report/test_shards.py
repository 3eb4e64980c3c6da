"""Shards: two runs of halves of a selection (pytest-split), merged by ``schemafuzz merge``,
give the reports one run of the whole selection writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench._schema_variants import REPO, run_properties
from schemafuzz.harness import DatabaseFactory

# A fixed seed: each test draws the same examples whichever run it is in.
SELECTION = (str(REPO / "properties" / "test_constraints.py"), "-k", "users or tasks",
             "--hypothesis-seed=0", "--schemafuzz-schema", "metadata")


def _coverage(folder: Path) -> list[dict[str, Any]]:
    return list(json.loads((folder / "coverage.json").read_text()))


def _verdicts(folder: Path) -> dict[str, str]:
    report = json.loads((folder / "VALIDATION_REPORT.json").read_text())
    return {c["id"]: c["verdict"] for c in report["criteria"]}


def _ran(result: subprocess.CompletedProcess[str]) -> int:
    last = result.stdout.strip().splitlines()[-1]
    return int(last.split(" passed")[0].split()[-1])


def test_two_shards_merge_into_the_report_of_one_run(
        tmp_path: Path, schemafuzz_server: DatabaseFactory) -> None:
    for run in ("serial", "shard1", "shard2"):
        (tmp_path / run).mkdir()
    serial = run_properties(tmp_path / "serial", schemafuzz_server, *SELECTION)
    assert serial.returncode == 0, serial.stdout[-3000:]
    shards = [run_properties(tmp_path / f"shard{group}", schemafuzz_server, *SELECTION,
                             "--splits", "2", "--group", str(group)) for group in (1, 2)]
    for shard in shards:
        assert shard.returncode == 0, shard.stdout[-3000:]
    assert 0 < _ran(shards[0]) < _ran(serial) and _ran(shards[0]) + _ran(shards[1]) == \
        _ran(serial)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    merged = subprocess.run(
        [sys.executable, "-m", "schemafuzz.cli", "merge", str(tmp_path / "shard1" / ".schemafuzz"),
         str(tmp_path / "shard2"), "--out", str(tmp_path / "merged"), "--models",
         "backend.app.models"], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert merged.stdout.startswith("merged 2 runs: "), merged.stdout
    # The selection is part of the suite: its run and each shard wrote their reports as
    # partial ones, and the merge says how much the shards ran together.
    serial_reports = tmp_path / "serial" / ".schemafuzz" / "partial"
    assert _coverage(tmp_path / "merged") == _coverage(serial_reports)
    assert _verdicts(tmp_path / "merged") == _verdicts(serial_reports)
    ran = _ran(serial)
    assert f"partial: {ran} of " in merged.stdout.splitlines()[1], merged.stdout
    assert json.loads((serial_reports / "VALIDATION_REPORT.json").read_text())["scope"]["ran"] \
        == json.loads((tmp_path / "merged" / "VALIDATION_REPORT.json").read_text())["scope"]["ran"]
    # Each shard alone covers less than the whole.
    halves = [_coverage(tmp_path / f"shard{group}" / ".schemafuzz" / "partial")
              for group in (1, 2)]
    assert all(sum(e["violations"] for e in half) < sum(e["violations"] for e in
                                                        _coverage(tmp_path / "merged"))
               for half in halves)


def test_merge_names_a_folder_without_report_data(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "schemafuzz.cli", "merge", str(tmp_path)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"schemafuzz merge: {tmp_path}: no ledger.json here"), \
        result.stderr
    assert "Traceback" not in result.stderr


def test_merge_exits_1_when_a_shard_found_something(tmp_path: Path) -> None:
    from schemafuzz.report import Ledger

    clean, found = Ledger(), Ledger()
    clean.declare("item", "title", "varchar(100)", "max_length", ["model", "database"])
    found.declare("item", "price", "Field(ge=0)", "range", ["model"])
    found.finding("item", "price", "Field(ge=0)", "only the model refuses -1", "unguarded")
    clean.dump(tmp_path / "a" / "ledger.json")
    found.dump(tmp_path / "b" / "ledger.json")
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    def merge(*folders: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "schemafuzz.cli", "merge", *folders,
                               "--out", str(tmp_path / "out")], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)

    assert merge("a").returncode == 0
    both = merge("a", "b")
    assert both.returncode == 1, both.stdout + both.stderr
    assert "1 unguarded" in both.stdout, both.stdout
