"""How ``pytest properties`` grows with the schema: synthetic SQLModel apps of 4, 16 and 64
tables, the same mix of constraints in each table.

Usage (from the repository root)::

    python bench/scale.py [--tables 4 16 64] [--db-url URL] [--workers N] [-- PYTEST ARGS]

Each app is a package written to a temporary folder: tables ``t0 .. t{N-1}`` in an FK tree
(``t{i}`` references ``t{(i-1)//2}`` ON DELETE CASCADE), each with an int serial key, a
``varchar(40)`` name with ``min_length=1`` and its CHECK, a unique ``varchar(12)`` code, an int
quantity with ``ge=0``/``le=1000`` and their CHECK, an enum stored by value and a
``timestamptz`` the database fills: every rule the model declares, the database enforces too,
so each run is green. Each app runs in a child ``pytest properties --schemafuzz-models ...``
(the dev profile, the schema built by ``create_all``), all against one throwaway server (or
``--db-url``), one after the other.

Printed per app: the wall time of the child, the constraints its coverage report lists, the
time per constraint and the child's peak resident memory (``ru_maxrss`` of a wrapper process
whose only child is that pytest); the last line is ``scale: per-constraint time 64/4 = R``
(largest over smallest app). Figures, not assertions: they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schemafuzz.harness import provision  # noqa: E402

_HEADER = '''\
"""A synthetic app of {tables} tables for bench/scale.py (generated; do not edit)."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import registry
from sqlmodel import Column, Field, SQLModel


class ScaleModel(SQLModel, registry=registry()):
    """Base class of this app's models: their own MetaData."""


metadata = ScaleModel.metadata


class Kind(enum.Enum):
    SMALL = "small"
    LARGE = "large"
    OTHER = "other"

'''

_TABLE = '''
class T{i}(ScaleModel, table=True):
    __tablename__ = "t{i}"
    __table_args__ = (
        sa.CheckConstraint("char_length(name) >= 1", name="ck_t{i}_name_not_empty"),
        sa.CheckConstraint("quantity >= 0 AND quantity <= 1000", name="ck_t{i}_quantity_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(min_length=1, max_length=40)
    code: str = Field(max_length=12, unique=True)
    quantity: int = Field(default=0, ge=0, le=1000)
    kind: Kind = Field(default=Kind.SMALL, sa_column=Column(
        sa.Enum(Kind, name="t{i}_kind", values_callable=lambda members: [m.value for m in members]),
        nullable=False))
    created_at: datetime | None = Field(default=None, sa_column=Column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False))
{parent}'''

_PARENT = ('    parent_id: int | None = Field(default=None, foreign_key="t{parent}.id", '
           'ondelete="CASCADE")\n')


def app_source(tables: int) -> str:
    """The models module of a synthetic app with ``tables`` tables (see the module docstring)."""
    body = [_HEADER.format(tables=tables)]
    for i in range(tables):
        parent = _PARENT.format(parent=(i - 1) // 2) if i else ""
        body.append(_TABLE.format(i=i, parent=parent))
    return "".join(body)


def write_app(folder: Path, tables: int) -> str:
    """Write the app as package ``scale_app_<tables>`` under ``folder``; return the module
    name of its models."""
    package = folder / f"scale_app_{tables}"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(app_source(tables))
    return f"scale_app_{tables}.models"


# The wrapper is the pytest child's only child-waiting parent, so RUSAGE_CHILDREN is its peak.
_WRAPPER = textwrap.dedent("""\
    import resource, subprocess, sys
    code = subprocess.call(sys.argv[1:])
    print(f"peak-rss-kib {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}",
          file=sys.stderr)
    sys.exit(code)
""")


@dataclass
class ScaleRun:
    """One app's run: its size, the wall time, the constraints it covered and peak memory."""

    tables: int
    seconds: float
    constraints: int
    peak_mib: float
    returncode: int
    summary: str

    @property
    def per_constraint(self) -> float:
        """Seconds of wall time per constraint covered."""
        return self.seconds / self.constraints if self.constraints else float("nan")


def run_app(tables: int, folder: Path, admin_url: str, extra: list[str]) -> ScaleRun:
    """Run ``pytest properties`` on the synthetic app of ``tables`` tables; never raises for
    a failing run (its return code and summary say so)."""
    models = write_app(folder / "apps", tables)
    workdir = folder / f"run_{tables}"
    workdir.mkdir()
    (workdir / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(folder / "apps"), str(ROOT)])
    env["SCHEMAFUZZ_EXAMPLES_DIR"] = str(workdir / "examples")
    command = [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "pytest",
               str(ROOT / "properties"), "-q", "-p", "no:randomly", "-c", "pytest.ini",
               "--rootdir", str(workdir), "--schemafuzz-db-url", admin_url,
               "--schemafuzz-models", models, "--schemafuzz-schema", "metadata", *extra]
    began = time.perf_counter()
    child = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                           check=False)
    seconds = time.perf_counter() - began
    peak = next((int(line.split()[1]) for line in child.stderr.splitlines()
                 if line.startswith("peak-rss-kib ")), 0)
    coverage = workdir / ".schemafuzz" / "coverage.json"
    constraints = len(json.loads(coverage.read_text())) if coverage.is_file() else 0
    lines = [line for line in child.stdout.splitlines() if line.strip()]
    summary = lines[-1].strip("= ") if lines else child.stderr[-300:]
    if child.returncode != 0:
        print(child.stdout[-4000:], file=sys.stderr)
    return ScaleRun(tables, seconds, constraints, peak / 1024, child.returncode, summary)


def table_lines(runs: list[ScaleRun]) -> list[str]:
    """The results as a Markdown table, one row per app."""
    lines = ["| tables | wall time | constraints | per constraint | peak memory | result |",
             "|---:|---:|---:|---:|---:|---|"]
    for run in runs:
        lines.append(f"| {run.tables} | {run.seconds:.1f} s | {run.constraints} | "
                     f"{run.per_constraint * 1000:.0f} ms | {run.peak_mib:.0f} MiB | "
                     f"{run.summary} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the apps, print the table and the ratio; return 0, or 1 when a run failed."""
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--db-url", default=None,
                        help="run against this server instead of a throwaway one")
    parser.add_argument("--workers", type=int, default=0,
                        help="pytest-xdist workers per run (0: serial, the default)")
    options = parser.parse_args(args)
    if options.workers:
        extra = ["-n", str(options.workers), *extra]
    sizes = sorted(options.tables)
    provisioned = provision(options.db_url)
    runs: list[ScaleRun] = []
    try:
        print(f"server: {provisioned.description}", flush=True)
        admin = provisioned.factory.admin_url.render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory(prefix="schemafuzz-scale-") as folder:
            for tables in sizes:
                print(f"running the {tables}-table app ...", flush=True)
                run = run_app(tables, Path(folder), admin, extra)
                print(f"  {run.seconds:.1f} s, {run.constraints} constraints, "
                      f"{run.peak_mib:.0f} MiB peak: {run.summary}", flush=True)
                runs.append(run)
    finally:
        provisioned.close()
    print()
    for line in table_lines(runs):
        print(line)
    smallest, largest = runs[0], runs[-1]
    ratio = largest.per_constraint / smallest.per_constraint
    print(f"scale: per-constraint time {largest.tables}/{smallest.tables} = {ratio:.2f}")
    return 0 if all(run.returncode == 0 for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
