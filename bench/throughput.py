"""Examples per second of the properties, against the floor: the same SQL sent straight through
psycopg2 with the same savepoint isolation; and what naive isolation would cost.

Usage (from the repository root)::

    python bench/throughput.py [--db-url URL] [--naive-examples 300]

One child ``pytest`` (``dev`` profile) runs two workloads on the migrated reference schema:

* ``constraints``: ``properties/test_constraints.py`` (valid rows round trip, every violation
  refused with its SQLSTATE, unvalidated instances refused on flush);
* ``stateful``: ``bench/_workload.py``, sequences of inserts / updates / deletes over the four
  tables with a row-count invariant after every step (200 examples).

``bench/_observe.py`` counts every example Hypothesis runs (generated, replayed or shrinking),
the time of each test's call phase, and writes each example's SQL as the sandbox's statement
recorder rendered it. Suite throughput = examples / call time (the Hypothesis engine, drawing
data, model validation, SQLAlchemy, the checks and the database; not pytest's start-up, nor
the Unicode tables Hypothesis builds once per checkout, which each child's folder gets first). A
second table splits that time per example: the engine between examples, drawing and checking
inside them, and the driver (``bench/_observe.py`` times the sandbox connection's cursor).

The floor then replays exactly those statements, example by example, with psycopg2 on a fresh
database migrated the same way: each example inside ``SAVEPOINT`` ... ``ROLLBACK TO SAVEPOINT``
(the suite's isolation; the statements keep their own inner savepoints, and an error is left to
them exactly as in the suite). Two naive isolations replay the first ``--naive-examples``:
``TRUNCATE`` of every table after each committed example, and ``drop_all()`` + ``create_all()``
per example. Prints the table and writes ``.schemafuzz/throughput.{md,json}``; the ratios are
benchmarks, not assertions.

The peer (``bench/_peer.py``) is the same two workloads written by hand, the way an expert
writes them with Hypothesis, SQLAlchemy Core and a SAVEPOINT per example, run in a third child
(plain pytest, no schemafuzz plugin) on a migrated database; its examples are counted the same
way. Printed: ``peer ratio: constraints R1 stateful R2`` (suite examples/s / peer examples/s)
and ``split: ours/engine constraints X stateful Y`` (the suite's drawing + checks per example
/ Hypothesis' engine per example).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/throughput.py`: make `bench` importable
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import URL  # noqa: E402

from bench._observe import read_observations  # noqa: E402
from bench._schema_variants import (  # noqa: E402
    migrated_reference,
    reference_metadata,
    run_properties,
)
from schemafuzz.harness import DatabaseFactory, provision  # noqa: E402

__all__ = ["Figures", "Workload", "load_examples", "main", "measure", "normalise", "replay",
           "warm_unicode_tables"]

WORKLOADS = {
    "constraints": ROOT / "properties" / "test_constraints.py",
    "stateful": ROOT / "bench" / "_workload.py",
}
PEER = ROOT / "bench" / "_peer.py"
_WORKLOAD_OF_TEST = {"test_stateful_workload": "stateful",
                     "test_peer_stateful_workload": "stateful"}
_SAVEPOINT = re.compile(r"^(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT) (\w+);?$")
_TABLES = "users, tasks, conversations, messages"


@dataclass
class Workload:
    """One workload's examples as the suite ran them."""

    name: str
    examples: int
    call_seconds: float
    statements: list[list[str]]
    example_seconds: float = 0.0  # inside the examples (draws, checks, database)
    db_seconds: float = 0.0  # of which in the driver

    @property
    def rate(self) -> float:
        """Examples per second of the suite."""
        return self.examples / self.call_seconds if self.call_seconds else 0.0


@dataclass
class Figures:
    """Throughputs of one workload, in examples per second."""

    workload: str
    examples: int
    statements_per_example: float
    suite: float
    floor: float
    floor_examples: int
    truncate: float
    truncate_examples: int
    recreate: float
    recreate_examples: int
    ms_engine: float = 0.0  # per example: Hypothesis between examples (choosing, mutating)
    ms_drawing_and_checks: float = 0.0  # per example: inside it, outside the driver
    ms_database: float = 0.0  # per example: in the driver (psycopg2 and PostgreSQL)
    peer: float = 0.0  # examples/s of the hand-written peer (bench/_peer.py)
    peer_examples: int = 0
    peer_ms_engine: float = 0.0  # the same split of the peer's time per example
    peer_ms_drawing_and_checks: float = 0.0
    peer_ms_database: float = 0.0

    @property
    def peer_ratio(self) -> float:
        """Suite throughput / the hand-written peer's (target: at least 1.0 for the
        constraints, 0.8 for the stateful workload)."""
        return self.suite / self.peer if self.peer else 0.0

    @property
    def ours_over_engine(self) -> float:
        """The suite's drawing and checks per example / Hypothesis' engine per example."""
        return self.ms_drawing_and_checks / self.ms_engine if self.ms_engine else 0.0

    @property
    def peer_ours_over_engine(self) -> float:
        """The same split for the hand-written peer: what its own drawing and checks cost
        against the engine (what the suite's split can be measured against)."""
        return (self.peer_ms_drawing_and_checks / self.peer_ms_engine
                if self.peer_ms_engine else 0.0)

    @property
    def ratio(self) -> float:
        """Suite throughput / floor throughput (target: at least 0.5)."""
        return self.suite / self.floor if self.floor else 0.0

    def suite_with(self, naive: float) -> float:
        """The suite's rate had it used a naive isolation: its time per example plus the extra
        time per example that isolation costs over savepoints."""
        if not (self.suite and naive and self.floor):
            return 0.0
        return 1 / (1 / self.suite + max(0.0, 1 / naive - 1 / self.floor))


def normalise(statements: list[str]) -> list[str]:
    """An example's statements for replay: without the recorder's comments (``-- ^ failed
    ...``), and without the release / rollback of a savepoint the example did not open (the
    per-example savepoint of the plugin, whose SAVEPOINT precedes the recording)."""
    opened: set[str] = set()
    kept: list[str] = []
    for statement in statements:
        if statement.lstrip().startswith("--"):
            continue
        match = _SAVEPOINT.match(statement.strip())
        if match:
            kind, name = match.groups()
            if kind == "SAVEPOINT":
                opened.add(name)
            elif name not in opened:
                continue
        kept.append(statement)
    return kept


def load_examples(observed: Path, statements: Path) -> dict[str, Workload]:
    """The workloads of an observed child run: example counts and call times from its
    observations, statements from its JSON lines."""
    data = read_observations(observed)
    workloads = {name: Workload(name, 0, 0.0, []) for name in WORKLOADS}

    def workload_of(nodeid: str) -> Workload:
        function = nodeid.partition("::")[2].split("[")[0]
        return workloads[_WORKLOAD_OF_TEST.get(function, "constraints")]

    for nodeid, counts in data.get("tests", {}).items():
        workload = workload_of(nodeid)
        workload.examples += int(counts.get("calls", 0))
        workload.call_seconds += float(counts.get("call_seconds", counts.get("seconds", 0.0)))
        workload.example_seconds += float(counts.get("seconds", 0.0))
        workload.db_seconds += float(counts.get("db_seconds", 0.0))
    with statements.open() as lines:
        for line in lines:
            record = json.loads(line)
            workload_of(record["test"]).statements.append(normalise(record["statements"]))
    return workloads


def _run_example(cursor: Any, statements: list[str]) -> None:
    for statement in statements:
        try:
            cursor.execute(statement)
            if cursor.description is not None:
                cursor.fetchall()
        except psycopg2.Error:
            pass  # the suite met the same error; its next ROLLBACK TO SAVEPOINT recovers


def replay(url: URL, examples: list[list[str]], isolation: str, metadata: sa.MetaData,
           budget_seconds: float = 60.0) -> tuple[int, float]:
    """Replay ``examples`` through psycopg2 with ``isolation`` (``savepoint``, ``truncate`` or
    ``recreate``) until done or ``budget_seconds`` have passed; return (examples, seconds)."""
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg2.connect(conninfo)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    done, began = 0, time.perf_counter()
    try:
        cursor = connection.cursor()
        for statements in examples:
            if isolation == "savepoint":
                cursor.execute("SAVEPOINT bench_example")
                _run_example(cursor, statements)
                cursor.execute("ROLLBACK TO SAVEPOINT bench_example")
            else:
                _run_example(cursor, statements)
                try:
                    connection.commit()
                except psycopg2.Error:
                    connection.rollback()
                if isolation == "truncate":
                    cursor.execute(f"TRUNCATE {_TABLES} CASCADE")
                    connection.commit()
                else:
                    metadata.drop_all(engine)
                    metadata.create_all(engine)
            done += 1
            if time.perf_counter() - began > budget_seconds:
                break
        seconds = time.perf_counter() - began
        connection.rollback()
    finally:
        connection.close()
        engine.dispose()
    return done, seconds


def _rate(done: int, seconds: float) -> float:
    return done / seconds if seconds else 0.0


def _split(workload: Workload) -> tuple[float, float, float]:
    """Milliseconds per example: the engine between examples, drawing and checking inside
    them, and the driver."""
    if not workload.examples:
        return 0.0, 0.0, 0.0
    per = 1000 / workload.examples
    return (per * max(0.0, workload.call_seconds - workload.example_seconds),
            per * max(0.0, workload.example_seconds - workload.db_seconds),
            per * workload.db_seconds)


def warm_unicode_tables(workdir: Path) -> None:
    """Build Hypothesis' Unicode tables (by category, and of the utf-8 codec the peer's
    alphabet names) in ``workdir``'s ``.hypothesis/``, as any earlier run in a project has:
    building them costs up to 1.6 s once per checkout, in the first test that draws text, and
    is not a cost per example. Raises subprocess.CalledProcessError when the child fails."""
    script = ("from hypothesis import strategies as st\n"
              "st.text(st.characters(codec='utf-8')).example()\n"
              "st.text(st.characters(exclude_categories=['Cs'])).example()\n")
    subprocess.run([sys.executable, "-W", "ignore", "-c", script], cwd=workdir, check=True,
                   capture_output=True)


def measure_peer(url: URL) -> dict[str, Workload]:
    """Run the hand-written peer on the migrated database at ``url`` in a child pytest (no
    schemafuzz plugin); return its workloads' example counts and call times. Raises
    RuntimeError when the child run fails."""
    workdir = Path(tempfile.mkdtemp(prefix="schemafuzz-peer-"))
    try:
        warm_unicode_tables(workdir)
        observed = workdir / "observed.json"
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SCHEMAFUZZ_", "PYTEST_"))}
        env["PYTHONPATH"] = str(ROOT)
        env["BENCH_PEER_URL"] = url.render_as_string(hide_password=False)
        child = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
             "no:schemafuzz", "-p", "bench._observe", "--bench-observe", str(observed),
             "--rootdir", str(workdir), "-c", os.devnull, str(PEER)],
            cwd=workdir, env=env, capture_output=True, text=True, check=False)
        if child.returncode != 0:
            raise RuntimeError(f"the peer's run failed (exit {child.returncode}):\n"
                               f"{(child.stdout + child.stderr)[-3000:]}")
        workloads = {name: Workload(name, 0, 0.0, []) for name in WORKLOADS}
        for nodeid, counts in read_observations(observed).get("tests", {}).items():
            function = nodeid.partition("::")[2].split("[")[0]
            workload = workloads[_WORKLOAD_OF_TEST.get(function, "constraints")]
            workload.examples += int(counts.get("calls", 0))
            workload.call_seconds += float(counts.get("call_seconds",
                                                      counts.get("seconds", 0.0)))
            workload.example_seconds += float(counts.get("seconds", 0.0))
            workload.db_seconds += float(counts.get("db_seconds", 0.0))
        return workloads
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(factory: DatabaseFactory, naive_examples: int = 300) -> list[Figures]:
    """Run the workloads in a child pytest, then the floor and the naive isolations; return
    the figures of each workload. Raises RuntimeError when the child run fails."""
    workdir = Path(tempfile.mkdtemp(prefix="schemafuzz-throughput-"))
    try:
        warm_unicode_tables(workdir)
        observed, statements = workdir / "observed.json", workdir / "statements.jsonl"
        child = run_properties(
            workdir, factory, "-p", "bench._observe", "--bench-observe", str(observed),
            "--bench-statements", str(statements), *map(str, WORKLOADS.values()),
            "--schemafuzz-alembic-ini", str(ROOT / "backend" / "alembic.ini"))
        if child.returncode != 0:
            raise RuntimeError(f"the suite's run failed (exit {child.returncode}):\n"
                               f"{(child.stdout + child.stderr)[-3000:]}")
        workloads = load_examples(observed, statements)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    metadata = reference_metadata()
    figures: list[Figures] = []
    with migrated_reference(factory, metadata) as url:
        peer = measure_peer(url)
        for workload in workloads.values():
            examples = workload.statements
            floor = replay(url, examples, "savepoint", metadata, budget_seconds=600)
            truncate = replay(url, examples[:naive_examples], "truncate", metadata)
            recreate = replay(url, examples[:naive_examples], "recreate", metadata)
            figures.append(Figures(
                workload.name, workload.examples,
                sum(map(len, examples)) / len(examples) if examples else 0.0,
                workload.rate, _rate(*floor), floor[0], _rate(*truncate), truncate[0],
                _rate(*recreate), recreate[0], *_split(workload),
                peer[workload.name].rate, peer[workload.name].examples,
                *_split(peer[workload.name])))
    return figures


def table_lines(figures: list[Figures]) -> list[str]:
    """The figures as a Markdown table."""
    lines = ["| workload | examples | SQL/example | suite ex/s | peer ex/s | suite / peer | "
             "floor ex/s (savepoint) | suite / floor | floor + TRUNCATE ex/s | "
             "floor + drop_all/create_all ex/s | suite with TRUNCATE (est.) ex/s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for f in figures:
        lines.append(
            f"| {f.workload} | {f.examples} | {f.statements_per_example:.1f} | {f.suite:.0f} | "
            f"{f.peer:.0f} (of {f.peer_examples}) | {f.peer_ratio:.2f} | "
            f"{f.floor:.0f} | {f.ratio:.2f} | {f.truncate:.0f} (of {f.truncate_examples}) | "
            f"{f.recreate:.1f} (of {f.recreate_examples}) | {f.suite_with(f.truncate):.0f} |")
    lines += ["", "Where the suite's time per example goes (ms): Hypothesis' engine between "
              "examples | drawing values and checking them | the driver (psycopg2 + PostgreSQL) "
              "| the floor's whole example", "",
              "| workload | engine | drawing + checks | driver | floor |",
              "|---|---:|---:|---:|---:|"]
    for f in figures:
        lines.append(f"| {f.workload} | {f.ms_engine:.2f} | {f.ms_drawing_and_checks:.2f} | "
                     f"{f.ms_database:.2f} | {1000 / f.floor if f.floor else 0:.2f} |")
        lines.append(f"| {f.workload} (peer) | {f.peer_ms_engine:.2f} | "
                     f"{f.peer_ms_drawing_and_checks:.2f} | {f.peer_ms_database:.2f} | |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Measure, print and write the figures; return the exit status (1 if the run failed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default=None,
                        help="run against this server instead of a throwaway one")
    parser.add_argument("--naive-examples", type=int, default=300,
                        help="examples replayed with each naive isolation (each is slow)")
    parser.add_argument("--out", type=Path, default=ROOT / ".schemafuzz")
    options = parser.parse_args(argv)
    provisioned = provision(options.db_url)
    try:
        print(f"server: {provisioned.description}", flush=True)
        began = time.perf_counter()
        try:
            figures = measure(provisioned.factory, options.naive_examples)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        wall = time.perf_counter() - began
    finally:
        provisioned.close()
    lines = table_lines(figures)
    print("\n".join(lines))
    for f in figures:
        print(f"{f.workload}: suite / floor = {f.ratio:.2f} (target >= 0.5); savepoints save "
              f"{1000 / f.truncate - 1000 / f.floor:.1f} ms/example over TRUNCATE and "
              f"{1000 / f.recreate - 1000 / f.floor:.0f} ms/example over drop_all/create_all"
              if f.truncate and f.recreate and f.floor else f"{f.workload}: no examples")
    by_name = {f.workload: f for f in figures}
    print("peer ratio: " + " ".join(f"{name} {by_name[name].peer_ratio:.2f}"
                                    for name in WORKLOADS if name in by_name)
          + " (suite examples/s / hand-written peer examples/s; targets 1.0 and 0.8)")
    print("split: ours/engine " + " ".join(f"{name} {by_name[name].ours_over_engine:.2f}"
                                           for name in WORKLOADS if name in by_name)
          + " (drawing + checks per example / Hypothesis' engine per example; target <= 1.0)")
    print("peer split: ours/engine " + " ".join(
        f"{name} {by_name[name].peer_ours_over_engine:.2f}" for name in WORKLOADS
        if name in by_name) + " (the hand-written peer's drawing + checks / its engine)")
    print(f"wall time {wall:.0f} s")
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "throughput.md").write_text(
        "# Throughput of the properties (dev profile) against the psycopg2 floor\n\n"
        + "\n".join(lines) + "\n")
    (options.out / "throughput.json").write_text(json.dumps(
        [{**asdict(f), "ratio": f.ratio, "suite_with_truncate": f.suite_with(f.truncate),
          "peer_ratio": f.peer_ratio, "ours_over_engine": f.ours_over_engine,
          "peer_ours_over_engine": f.peer_ours_over_engine}
         for f in figures], indent=2))
    print(f"report: {options.out / 'throughput.md'} and throughput.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
