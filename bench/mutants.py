"""Mutation adequacy of the properties: small changes to the migrated reference schema, and
whether ``pytest properties`` (``dev`` profile) notices each one.

Usage (from the repository root)::

    python bench/mutants.py [--all | --quick] [--workers 2] [--db-url URL] [--only TEXT ...]

The catalogue is generated from the live catalogue of a database migrated to head with the
reference backend (``schemafuzz.strategies.read_live_schema``, the suite's one reader of
pg_catalog): widen / shrink every VARCHAR by one character, drop every NOT NULL,
CHECK, FK, primary key / unique constraint, index, server default and trigger, change every
ON DELETE action, drop / add an enum label, store an enum by name, ``timestamptz`` ->
``timestamp``. Each mutant is the reference ``pg_dump --schema-only`` with one change appended;
a child ``pytest -x`` runs the property files that can observe it (``SELECTION`` below, printed
with the results) against it with ``--schemafuzz-schema sql:PATH``. Killed: a property failed; the
time to
kill runs from starting the child to its first failing example (``bench/_observe.py``), start-up
and schema build included. Hypothesis' shrink phase is off unless ``--shrink``: it changes no
verdict and would spend most of a killed mutant's run minimising the failure. Survived: every
selected property passed. Mutants with no observable difference are marked equivalent with the
reason; they are run too, and one that is killed anyway is counted as killed and flagged.

``--findings-cost`` measures instead what a finding costs a user: the whole default
``pytest properties`` (every property file, no ``-x``, the shrink phase on) on the clean
reference dump and on each chosen mutant, one after the other, and prints each run's wall
time beside the clean run's and ``findings cost: median mutant run / clean run = R``.

Writes ``.schemafuzz/mutants.md`` and ``mutants.json``. Exit status: 0 when every non-equivalent
mutant was killed, 1 when one survived or a run failed to run.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/mutants.py`: make `bench` importable
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench._observe import read_observations  # noqa: E402
from bench._schema_variants import (  # noqa: E402
    broken_dump,
    dump_schema,
    migrated_reference,
    reference_metadata,
    run_properties,
)
from schemafuzz.harness import DatabaseFactory, provision  # noqa: E402
from schemafuzz.strategies import (  # noqa: E402
    LiveColumn,
    LiveConstraint,
    LiveIndex,
    LiveSchema,
    read_live_schema,
)

__all__ = [
    "QUICK",
    "SELECTION",
    "SURVIVOR_HINTS",
    "Mutant",
    "Result",
    "Selection",
    "main",
    "mutant_catalogue",
    "prepare",
    "run_mutant",
    "run_mutants",
    "summarise",
    "survivor_hint",
    "write_reports",
]

PROPERTIES = ROOT / "properties"

# --- which properties can observe which kind of mutant ----------------------------------------


@dataclass(frozen=True)
class Selection:
    """The property files (under ``properties/``) and the ``-k`` expression a child runs."""

    files: tuple[str, ...]
    keyword: str | None

    def args(self) -> list[str]:
        """pytest arguments: the files as absolute paths, then ``-k`` when there is one."""
        paths = [str(PROPERTIES / name) for name in self.files]
        return [*paths, "-k", self.keyword] if self.keyword else paths

    def describe(self) -> str:
        """The selection as a command-line fragment, e.g. ``test_constraints.py -k tasks``."""
        text = " ".join(f"properties/{name}" for name in self.files)
        return f"{text} -k {self.keyword}" if self.keyword else text


# Kind -> (files, -k template; {table} is the mutated table). Column-level rules are observed
# by the per-constraint properties of that table; ON DELETE by the ORM-vs-SQL delete property;
# indexes by the user-scoped query plans; triggers, server-filled timestamps and column types of
# timestamps by the timestamp properties (server defaults also by the round trip of valid rows);
# what shows in no single row (an extra enum label, a missing index) by the comparison of the
# schema under test with the models (test_schema.py).
SELECTION: dict[str, tuple[tuple[str, ...], str | None]] = {
    "varchar_widen": (("test_constraints.py",), "{table}"),
    "varchar_shrink": (("test_constraints.py",), "{table}"),
    "drop_not_null": (("test_constraints.py",), "{table}"),
    "drop_check": (("test_constraints.py",), "{table}"),
    "drop_key": (("test_constraints.py",), "{table}"),
    "drop_fk": (("test_constraints.py",), "{table}"),
    "on_delete": (("test_foreign_keys.py",), "{table}"),
    "enum_drop_label": (("test_constraints.py",), "{table}"),
    "enum_add_label": (("test_constraints.py", "test_schema.py"), "{table} or schema"),
    "enum_by_name": (("test_constraints.py",), "{table}"),
    "drop_index": (("test_connection.py", "test_schema.py"), "user_scoped or schema"),
    "drop_indexes": (("test_connection.py", "test_schema.py"), "user_scoped or schema"),
    "drop_default": (("test_timestamps.py", "test_constraints.py", "test_schema.py"),
                     "{table} or schema"),
    "drop_trigger": (("test_timestamps.py", "test_schema.py"), "{table} or schema"),
    "timestamptz": (("test_timestamps.py",), "{table}"),
}

# One mutant per kind (roughly), for `--quick`.
QUICK = (
    "varchar_widen:tasks.title",
    "drop_not_null:messages.content",
    "drop_check:ck_users_email_length",
    "on_delete:fk_tasks_user_id_users->NO ACTION",
    "enum_by_name:message_role",
    "drop_trigger:conversations_timestamps_before_update",
    "timestamptz:users.created_at",
)


# What no selected property looks at, shown beside a survivor of the matching id (fnmatch
# patterns). Written from the survivors of the first full run; a hint names the missing check,
# never a reason to count the survivor as equivalent.
SURVIVOR_HINTS = {
    "enum_add_label:*": "no property compares the live enum labels with the model's: "
    "violations() draws labels the model lacks, never one the database gained; the database "
    "now stores a value the model refuses (design: labels exactly user, assistant)",
    "drop_index*:*": "the index-use property (SC-009) covers WHERE user_id = ... on tasks only; "
    "nothing checks the other indexes the design lists (conversations(user_id), "
    "messages(conversation_id, created_at))",
    "drop_default:*": "test_database_fills_omitted_timestamps omits datetime columns only; the "
    "model always sends ids and completed, so no property omits them; a SQL insert that does is "
    "refused (23502)",
    "drop_trigger:*_before_insert": "no property inserts one of created_at / updated_at and "
    "omits the other: created_at in the future with updated_at defaulted is stored by the "
    "reference schema and refused (23514) without the trigger",
    "drop_trigger:*_created_at_immutable": "the created_at-is-immutable check runs only on "
    "tables with an updated_at column; messages.created_at can now be changed by an UPDATE",
}


@dataclass(frozen=True)
class Mutant:
    """One small change to the reference schema: SQL appended to its dump."""

    id: str
    kind: str
    table: str
    what: str
    sql: str
    equivalent: str | None = None  # why no client could tell it from the reference schema

    @property
    def selection(self) -> Selection:
        """The properties that can observe this kind of mutant."""
        files, keyword = SELECTION[self.kind]
        return Selection(files, keyword.format(table=self.table) if keyword else None)


# --- the catalogue, from the live catalogue of the migrated database --------------------------

_ADDED_LABEL = "system"


def _q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _alter(col: LiveColumn) -> str:
    """``ALTER TABLE t ALTER COLUMN c`` for a column of the snapshot."""
    return f"ALTER TABLE {_q(col.table)} ALTER COLUMN {_q(col.name)}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _refuses(conn: sa.Connection, expr: str, column: str, sql_type: str,
             value: str | None) -> bool:
    """Whether a CHECK expression on ``column`` is false for ``value`` (None: NULL), evaluated
    by the live database over a one-row relation with that column."""
    literal = "NULL" if value is None else _literal(value)
    row = conn.execute(sa.text(
        f"SELECT ({expr}) FROM (SELECT CAST({literal} AS {sql_type}) AS {_q(column)}) AS r"
    )).scalar()
    return row is False


def _single_column_checks(live: LiveSchema, table: str, column: str) -> list[LiveConstraint]:
    """The CHECKs of ``table`` over ``column`` alone."""
    return [c for c in live.constraints if c.kind == "c" and c.table == table
            and c.columns == (column,) and c.expression is not None]


def _varchar_mutants(live: LiveSchema) -> Iterable[Mutant]:
    for col in live.columns.values():
        if col.data_type != "character varying" or col.char_max is None:
            continue
        n, target = col.char_max, f"{col.table}.{col.name}"
        alter = f"{_alter(col)} TYPE "
        yield Mutant(f"varchar_widen:{target}", "varchar_widen", col.table,
                     f"{target} varchar({n}) -> varchar({n + 1})", alter + f"varchar({n + 1});")
        yield Mutant(f"varchar_shrink:{target}", "varchar_shrink", col.table,
                     f"{target} varchar({n}) -> varchar({n - 1})", alter + f"varchar({n - 1});")


def _not_null_mutants(conn: sa.Connection, live: LiveSchema) -> Iterable[Mutant]:
    key_columns = {(c.table, name) for c in live.constraints if c.kind == "p"
                   for name in c.columns}
    for col in live.columns.values():
        # A primary key column cannot lose NOT NULL.
        if col.nullable or (col.table, col.name) in key_columns:
            continue
        target = f"{col.table}.{col.name}"
        refusing = [c.name for c in _single_column_checks(live, col.table, col.name)
                    if _refuses(conn, str(c.expression), col.name, col.type, None)]
        equivalent = (f"{refusing[0]} refuses NULL too (evaluated on the live database)"
                      if refusing else None)
        yield Mutant(f"drop_not_null:{target}", "drop_not_null", col.table,
                     f"{target} loses NOT NULL", f"{_alter(col)} DROP NOT NULL;", equivalent)


_MIN_LENGTH_ONE = r"^\(?char_length\(\(?{col}\)?(?:::text)?\) >= 1\)?$"


def _check_equivalence(conn: sa.Connection, check: LiveConstraint, live: LiveSchema
                       ) -> str | None:
    """Why dropping ``check`` changes nothing, or None. The one case recognised: a CHECK that
    only refuses the empty string (``char_length(c) >= 1``) on a column another CHECK also
    refuses the empty string on (evaluated by the live database)."""
    if len(check.columns) != 1 or check.expression is None:
        return None
    column = check.columns[0]
    if not re.match(_MIN_LENGTH_ONE.format(col=re.escape(column)), check.expression.strip()):
        return None
    sql_type = live.columns[(check.table, column)].type
    for other in _single_column_checks(live, check.table, column):
        if other.name != check.name and _refuses(conn, str(other.expression), column, sql_type,
                                                 ""):
            return (f"it refuses only '' and {other.name} refuses '' too (evaluated on the "
                    "live database), so the set of accepted values is unchanged")
    return None


def _is_referenced(key: LiveConstraint, live: LiveSchema) -> bool:
    """Whether a foreign key references exactly the columns of ``key``."""
    return any(fk.kind == "f" and fk.ref_table == key.table
               and set(fk.ref_columns) == set(key.columns) for fk in live.constraints)


def _constraint_mutants(conn: sa.Connection, live: LiveSchema) -> Iterable[Mutant]:
    for con in sorted(live.constraints, key=lambda c: (c.table, c.name)):
        table, name = con.table, con.name
        drop = f"ALTER TABLE {_q(table)} DROP CONSTRAINT {_q(name)}"
        if con.kind == "c":
            yield Mutant(f"drop_check:{name}", "drop_check", table,
                         f"{table} loses CHECK {con.expression}", drop + ";",
                         _check_equivalence(conn, con, live))
        elif con.kind in ("p", "u"):
            what = "PRIMARY KEY" if con.kind == "p" else "UNIQUE"
            referenced = _is_referenced(con, live)
            cascade = " (CASCADE: the FKs referencing it go too)" if referenced else ""
            yield Mutant(f"drop_key:{name}", "drop_key", table,
                         f"{table}({', '.join(con.columns)}) loses {what} {name}{cascade}",
                         drop + (" CASCADE;" if referenced else ";"))
        elif con.kind == "f":
            yield Mutant(f"drop_fk:{name}", "drop_fk", table, f"{table} loses FK {name}",
                         drop + ";")
            current = con.ondelete
            cols = ", ".join(_q(c) for c in con.columns)
            refs = ", ".join(_q(c) for c in con.ref_columns)
            for action in ("CASCADE", "NO ACTION", "SET NULL"):
                if action == current:
                    continue
                yield Mutant(
                    f"on_delete:{name}->{action}", "on_delete", table,
                    f"{name} ON DELETE {current} -> {action}",
                    f"{drop}, ADD CONSTRAINT {_q(name)} FOREIGN KEY ({cols}) REFERENCES "
                    f"{_q(str(con.ref_table))} ({refs}) ON DELETE {action};")


def _enum_mutants(live: LiveSchema, metadata: sa.MetaData) -> Iterable[Mutant]:
    names_by_type: dict[str, dict[str, str]] = {}  # type -> label -> Python member name
    for sa_table in metadata.tables.values():
        for column in sa_table.columns:
            kind = column.type
            if isinstance(kind, sa.Enum) and kind.name and kind.enum_class is not None:
                values = {str(getattr(m, "value", m)): m.name for m in kind.enum_class}
                names_by_type[kind.name] = values
    for typ, enum_labels in live.enums.items():
        labels = list(enum_labels)
        users = [c for c in live.columns.values()
                 if c.data_type == "USER-DEFINED" and c.udt_name == typ]
        table = users[0].table if users else "?"
        for label in labels:
            kept = ", ".join(_literal(x) for x in labels if x != label)
            retype = "".join(
                f"{_alter(c)} TYPE {_q(typ)} USING {_q(c.name)}::text::{_q(typ)};\n"
                for c in users)
            yield Mutant(
                f"enum_drop_label:{typ}.{label}", "enum_drop_label", table,
                f"enum {typ} loses label {label!r}",
                f"ALTER TYPE {_q(typ)} RENAME TO {_q(typ + '__old')};\n"
                f"CREATE TYPE {_q(typ)} AS ENUM ({kept});\n{retype}"
                f"DROP TYPE {_q(typ + '__old')};")
        yield Mutant(f"enum_add_label:{typ}.{_ADDED_LABEL}", "enum_add_label", table,
                     f"enum {typ} gains label {_ADDED_LABEL!r}",
                     f"ALTER TYPE {_q(typ)} ADD VALUE {_literal(_ADDED_LABEL)};")
        names = names_by_type.get(typ)
        if names and any(names.get(label, label) != label for label in labels):
            renames = "\n".join(
                f"ALTER TYPE {_q(typ)} RENAME VALUE {_literal(label)} TO "
                f"{_literal(names[label])};" for label in labels if label in names)
            yield Mutant(f"enum_by_name:{typ}", "enum_by_name", table,
                         f"enum {typ} stores member names ({', '.join(names.values())}) "
                         "instead of values", renames)


def _index_mutants(indexes: Iterable[LiveIndex]) -> Iterable[Mutant]:
    by_leading: dict[tuple[str, str], list[str]] = {}
    ordered = sorted(indexes, key=lambda i: (i.table, i.name))
    for index in ordered:
        if index.columns:
            by_leading.setdefault((index.table, index.columns[0]), []).append(index.name)
    for index in ordered:
        # Not equivalent even when another index leads with the same column: design §2 lists
        # every index, and test_schema.py compares the schema under test with the models.
        unique = "unique " if index.unique else ""
        yield Mutant(f"drop_index:{index.name}", "drop_index", index.table,
                     f"{unique}index {index.name} on {index.table}"
                     f"({', '.join(index.columns)}) dropped", f"DROP INDEX {_q(index.name)};")
    for (table, column), names in by_leading.items():
        if len(names) > 1:
            yield Mutant(f"drop_indexes:{table}({column})", "drop_indexes", table,
                         f"every index leading with {table}.{column} dropped "
                         f"({', '.join(names)})",
                         "\n".join(f"DROP INDEX {_q(name)};" for name in names))


_TRIGGER_SHAPE = re.compile(r"TRIGGER \S+ (.*?) ON .*EXECUTE (?:FUNCTION|PROCEDURE) (\S+?)\(")


def _trigger_mutants(live: LiveSchema) -> Iterable[Mutant]:
    for (table, name), definition in sorted(live.triggers.items()):
        shape = _TRIGGER_SHAPE.search(definition)
        when, function = (shape.group(1), shape.group(2).rsplit(".", 1)[-1]) if shape else (
            "?", "?")
        yield Mutant(f"drop_trigger:{name}", "drop_trigger", table,
                     f"trigger {name} ({when} -> {function}()) dropped",
                     f"DROP TRIGGER {_q(name)} ON {_q(table)};")


def mutant_catalogue(conn: sa.Connection, metadata: sa.MetaData) -> list[Mutant]:
    """Every mutant of the schema in ``conn``'s database (migrated to head), generated from its
    live catalogue (:func:`schemafuzz.strategies.read_live_schema`); ``metadata`` supplies only
    what the database cannot know (the Python names of enum members). Returns them in a stable
    order. Raises ``sqlalchemy.exc.DBAPIError`` if the catalogue cannot be read."""
    live = read_live_schema(conn)
    columns = list(live.columns.values())
    mutants: list[Mutant] = [
        *_varchar_mutants(live),
        *_not_null_mutants(conn, live),
        *_constraint_mutants(conn, live),
        *_enum_mutants(live, metadata),
        *_index_mutants(live.indexes),
    ]
    for col in columns:
        if col.default is not None and not col.identity:
            target = f"{col.table}.{col.name}"
            mutants.append(Mutant(f"drop_default:{target}", "drop_default", col.table,
                                  f"{target} loses DEFAULT {col.default}",
                                  f"{_alter(col)} DROP DEFAULT;"))
    for col in columns:
        if col.data_type == "timestamp with time zone":
            target = f"{col.table}.{col.name}"
            mutants.append(Mutant(f"timestamptz:{target}", "timestamptz", col.table,
                                  f"{target} timestamptz -> timestamp",
                                  f"{_alter(col)} TYPE timestamp without time zone;"))
    mutants.extend(_trigger_mutants(live))
    return mutants


# --- running ----------------------------------------------------------------------------------

_FAILED = re.compile(r"^(FAILED|ERROR) (\S*?::\S+?(?:\[[^\]]*\])?)(?: - (.*))?$", re.M)
_FINDING = re.compile(r"FINDING [^\n]*")
_SUMMARY = re.compile(r"^=*\s*(\d+ \w+.*?) in [\d.]+s", re.M)


@dataclass
class Result:
    """What one mutant's child run showed. ``seconds``: from starting the child to the first
    failing example (the time to kill), or the whole run when nothing failed; ``run_seconds``:
    the whole ``-x`` run (including Hypothesis' shrinking of the failure and the reports)."""

    mutant: Mutant
    status: str  # killed | survived | equivalent | error
    seconds: float
    selection: str
    run_seconds: float = 0.0
    first_failure: str | None = None
    finding: str | None = None
    summary: str = ""
    detail: str = ""
    # Examples of the first failing test that failed: the first one and Hypothesis' replay of
    # it without shrinking, every smaller failure it found with --shrink. None: not observed.
    failed_examples: int | None = None

    @property
    def equivalence_refuted(self) -> bool:
        """A mutant declared equivalent that a property killed: the reason was wrong."""
        return self.status == "killed" and self.mutant.equivalent is not None


def _short_nodeid(nodeid: str, selection: Selection) -> str:
    """``file.py::test[id]``: the child's node ids have no path (the files sit outside its
    rootdir), so the file is found by the test function's name."""
    path, _, rest = nodeid.partition("::")
    if not path:
        function = rest.split("[")[0]
        path = next((name for name in selection.files
                     if f"def {function}(" in (PROPERTIES / name).read_text()), "?")
    return f"{Path(path).name}::{rest}"


def run_mutant(mutant: Mutant, dump: str, factory: DatabaseFactory,
               timeout: float = 600, shrink: bool = False) -> Result:
    """Run the mutant's selected properties with ``-x`` against the reference dump plus the
    mutant's SQL, in a temporary folder, and return the result. Without ``shrink`` the dev
    profile runs without its shrink phase: the same examples in the same order, so the same
    verdict and time to the first failure, without minimising the failure (which takes most of
    a killed mutant's run). Never raises for a failing run:
    a child that could not run (schema did not build, nothing collected, timeout) is an
    ``error`` with the tail of its output."""
    selection = mutant.selection
    workdir = Path(tempfile.mkdtemp(prefix="schemafuzz-mutant-"))
    observed = workdir / "observed.json"
    try:
        schema = broken_dump(workdir, dump, mutant.sql)
        started, began = time.time(), time.perf_counter()
        try:
            child = run_properties(
                workdir, factory, "-x", "-p", "bench._observe", "--bench-observe",
                str(observed), *([] if shrink else ["--bench-no-shrink"]), *selection.args(),
                "--schemafuzz-schema", f"sql:{schema}", timeout=timeout)
        except Exception as error:  # a timeout: reported as an error of this mutant
            return Result(mutant, "error", time.perf_counter() - began, selection.describe(),
                          detail=f"{type(error).__name__}: {error}")
        run_seconds = time.perf_counter() - began
        output = child.stdout + child.stderr
        summary = (_SUMMARY.findall(output) or ["no pytest summary"])[-1]
        failures = _FAILED.findall(output)
        finding = _FINDING.search(output)
        observations = read_observations(observed)
        first = observations.get("first_failure")
        if child.returncode == 1 and failures:
            kind, nodeid, message = failures[0]
            seconds = float(first["at"]) - started if first else run_seconds
            counts = observations.get("tests", {}).get(first["nodeid"]) if first else None
            return Result(mutant, "killed", seconds, selection.describe(), run_seconds,
                          _short_nodeid(nodeid, selection)
                          + (" (error)" if kind == "ERROR" else ""),
                          finding.group(0) if finding else message[:300], summary,
                          failed_examples=int(counts["failed"]) if counts else None)
        if child.returncode == 0:
            status = "equivalent" if mutant.equivalent else "survived"
            return Result(mutant, status, run_seconds, selection.describe(), run_seconds,
                          summary=summary)
        return Result(mutant, "error", run_seconds, selection.describe(), run_seconds,
                      summary=summary, detail=f"exit {child.returncode}: {output[-1500:]}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_mutants(mutants: list[Mutant], dump: str, factory: DatabaseFactory, workers: int = 2,
                timeout: float = 600, report: Callable[[Result], None] | None = None,
                shrink: bool = False) -> list[Result]:
    """Run every mutant, ``workers`` at a time; return the results in catalogue order.
    ``report`` is called (serialised) as each one finishes."""
    lock = threading.Lock()

    def one(mutant: Mutant) -> Result:
        result = run_mutant(mutant, dump, factory, timeout, shrink)
        if report is not None:
            with lock:
                report(result)
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, mutants))


# --- figures and reports ----------------------------------------------------------------------


@dataclass
class Summary:
    """The run's figures."""

    mutants: int
    non_equivalent: int
    killed: int
    survived: list[str]
    equivalent: list[str]
    errors: list[str]
    refuted: list[str]
    kill_rate: float | None
    median_seconds_to_kill: float | None
    median_run_seconds_killed: float | None
    wall_seconds: float = 0.0
    workers: int = 2
    extra: dict[str, Any] = field(default_factory=dict)


def summarise(results: list[Result], wall_seconds: float = 0.0, workers: int = 2) -> Summary:
    """Kill rate over the non-equivalent mutants (errors excluded, and listed), and the median
    time to kill."""
    killed = [r for r in results if r.status == "killed"]
    survived = [r.mutant.id for r in results if r.status == "survived"]
    judged = len(killed) + len(survived)
    return Summary(
        mutants=len(results),
        non_equivalent=sum(1 for r in results if r.mutant.equivalent is None
                           or r.equivalence_refuted),
        killed=len(killed),
        survived=survived,
        equivalent=[r.mutant.id for r in results if r.status == "equivalent"],
        errors=[r.mutant.id for r in results if r.status == "error"],
        refuted=[r.mutant.id for r in results if r.equivalence_refuted],
        kill_rate=len(killed) / judged if judged else None,
        median_seconds_to_kill=statistics.median(r.seconds for r in killed) if killed else None,
        median_run_seconds_killed=(statistics.median(r.run_seconds for r in killed)
                                   if killed else None),
        wall_seconds=wall_seconds,
        workers=workers,
    )


def _figures(summary: Summary) -> list[str]:
    rate = "n/a" if summary.kill_rate is None else f"{summary.kill_rate:.1%}"
    median = ("n/a" if summary.median_seconds_to_kill is None
              else f"{summary.median_seconds_to_kill:.1f} s")
    run = ("n/a" if summary.median_run_seconds_killed is None
           else f"{summary.median_run_seconds_killed:.1f} s")
    lines = [
        f"mutants: {summary.mutants} ({summary.non_equivalent} non-equivalent, "
        f"{len(summary.equivalent)} equivalent, {len(summary.errors)} could not run)",
        f"kill rate: {rate} ({summary.killed} killed / "
        f"{summary.killed + len(summary.survived)} non-equivalent that ran)",
        f"median time to kill: {median} (from starting the child pytest to the first failing "
        f"example: start-up and schema build included); median -x run of a killed mutant: "
        f"{run} (the rest of the -x run: the reports, and shrinking when --shrink)",
        f"wall time: {summary.wall_seconds:.0f} s with {summary.workers} workers",
        "profile: dev" + ("" if summary.extra.get("shrink") else
                          ", shrink phase off (same examples and verdicts; the findings show "
                          "the first failing example, not a minimal one; --shrink keeps it)"),
    ]
    if summary.survived:
        lines.append(f"SURVIVED: {', '.join(summary.survived)}")
    if summary.refuted:
        lines.append(f"declared equivalent but killed: {', '.join(summary.refuted)}")
    if summary.errors:
        lines.append(f"could not run: {', '.join(summary.errors)}")
    return lines


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def survivor_hint(mutant: Mutant) -> str | None:
    """What no selected property checks, for a mutant that survived (see SURVIVOR_HINTS)."""
    return next((hint for pattern, hint in SURVIVOR_HINTS.items()
                 if fnmatch.fnmatchcase(mutant.id, pattern)), None)


def table_lines(results: list[Result]) -> list[str]:
    """The results as a Markdown table, one row per mutant."""
    lines = ["| mutant | change | status | to kill s | run s | first failure / reason |",
             "|---|---|---|---:|---:|---|"]
    for r in results:
        if r.status == "killed":
            why = f"{r.first_failure}: {r.finding or ''}"
            if r.equivalence_refuted:
                why = (f"DECLARED EQUIVALENT ({r.mutant.equivalent}), yet killed (a structural "
                       f"check, or the reason is wrong): {why}")
        elif r.status == "equivalent":
            why = f"equivalent: {r.mutant.equivalent} (selection passed: {r.summary})"
        elif r.status == "survived":
            why = f"every selected property passed ({r.summary}); selection: {r.selection}"
            hint = survivor_hint(r.mutant)
            if hint:
                why += f"; missing: {hint}"
        else:
            why = r.detail[-300:]
        to_kill = f"{r.seconds:.1f}" if r.status == "killed" else "-"
        lines.append(f"| `{_cell(r.mutant.id)}` | {_cell(r.mutant.what)} | {r.status} | "
                     f"{to_kill} | {r.run_seconds:.1f} | {_cell(why)[:400]} |")
    return lines


def selection_lines(kinds: Iterable[str]) -> list[str]:
    """The kind -> properties selection actually used, as a Markdown table."""
    lines = ["| kind | properties run (`-x`, dev profile; {table} = the mutated table) |",
             "|---|---|"]
    for kind in sorted(set(kinds)):
        files, keyword = SELECTION[kind]
        text = " ".join(f"properties/{name}" for name in files)
        lines.append(f"| {kind} | `{text}{f' -k {keyword}' if keyword else ''}` |")
    return lines


def write_reports(results: list[Result], summary: Summary, folder: Path, command: str
                  ) -> tuple[Path, Path]:
    """Write ``mutants.md`` and ``mutants.json`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "mutants.md", folder / "mutants.json"
    kinds = [r.mutant.kind for r in results]
    text = [
        "# Mutation adequacy of `pytest properties` (dev profile)", "",
        f"Command: `{command}`", "",
        *[f"- {line}" for line in _figures(summary)], "",
        "## Which properties run for which kind of mutant", "",
        *selection_lines(kinds), "",
        "## Mutants", "",
        *table_lines(results), "",
        "## Survivors: what no selected property checks", "",
        *[f"- `{r.mutant.id}` ({r.mutant.what}): {survivor_hint(r.mutant) or 'no hint'}"
          for r in results if r.status == "survived"], "",
        "## Equivalent mutants", "",
        *[f"- `{r.mutant.id}`: {r.mutant.equivalent}" for r in results
          if r.mutant.equivalent], "",
        "## SQL of each mutant (appended to the reference pg_dump --schema-only)", "",
        *[f"- `{r.mutant.id}`: `{_cell(' '.join(r.mutant.sql.split()))}`" for r in results],
        "",
    ]
    md.write_text("\n".join(text))
    js.write_text(json.dumps({
        "command": command,
        "summary": asdict(summary),
        "selection": {kind: {"files": list(SELECTION[kind][0]), "k": SELECTION[kind][1]}
                      for kind in sorted(set(kinds))},
        "results": [{**asdict(r.mutant), "status": r.status, "seconds": round(r.seconds, 2),
                     "selection": r.selection, "first_failure": r.first_failure,
                     "finding": r.finding, "summary": r.summary, "detail": r.detail,
                     "equivalence_refuted": r.equivalence_refuted} for r in results],
    }, indent=2))
    return md, js


def prepare(factory: DatabaseFactory) -> tuple[list[Mutant], str]:
    """Migrate a database with the reference backend, read its catalogue and dump it; return
    the mutants and the dump."""
    metadata = reference_metadata()
    with migrated_reference(factory, metadata) as url:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                mutants = mutant_catalogue(conn, metadata)
        finally:
            engine.dispose()
        return mutants, dump_schema(url)


def _whole_run(workdir: Path, factory: DatabaseFactory, dump: str, alteration: str,
               timeout: float) -> tuple[float, str]:
    """Wall time and pytest summary of the whole default ``pytest properties`` on the reference
    dump with ``alteration`` appended (a user's run: every file, no -x, shrinking on)."""
    workdir.mkdir(parents=True)
    schema = broken_dump(workdir, dump, alteration)
    began = time.perf_counter()
    child = run_properties(workdir, factory, str(PROPERTIES), "--schemafuzz-schema",
                           f"sql:{schema}", timeout=timeout)
    seconds = time.perf_counter() - began
    output = child.stdout + child.stderr
    return seconds, (_SUMMARY.findall(output) or [f"exit {child.returncode}"])[-1]


def findings_cost(mutants: list[Mutant], dump: str, factory: DatabaseFactory,
                  timeout: float) -> list[str]:
    """Run the whole properties on the clean dump, then on each mutant, serially; return the
    lines to print: one per run, then ``findings cost: median mutant run / clean run = R``."""
    with tempfile.TemporaryDirectory(prefix="schemafuzz-findings-cost-") as folder:
        clean, summary = _whole_run(Path(folder) / "clean", factory, dump, "-- nothing broken",
                                    timeout)
        lines = [f"clean run: {clean:.1f} s ({summary})"]
        print(lines[0], flush=True)
        ratios: list[float] = []
        for index, mutant in enumerate(mutants):
            seconds, summary = _whole_run(Path(folder) / f"mutant{index}", factory, dump,
                                          mutant.sql, timeout)
            ratios.append(seconds / clean)
            lines.append(f"{mutant.id}: {seconds:.1f} s = {seconds / clean:.2f} x clean "
                         f"({summary})")
            print(lines[-1], flush=True)
    lines.append(f"findings cost: median mutant run / clean run = "
                 f"{statistics.median(ratios):.2f} ({len(ratios)} mutants, whole default "
                 "pytest properties each)")
    return lines


def _progress(result: Result) -> None:
    where = result.first_failure or result.summary or result.detail[:200]
    print(f"  {result.status:>10}  {result.seconds:5.1f} s (run {result.run_seconds:5.1f} s)  "
          f"{result.mutant.id}  ({where})", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Build the catalogue, run the chosen mutants, print and write the figures; return the
    exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every mutant (the default)")
    which.add_argument("--quick", action="store_true",
                       help=f"the fixed subset of {len(QUICK)} mutants, about one per kind")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="only mutants whose id contains one of these")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per mutant")
    parser.add_argument("--db-url", default=None,
                        help="run against this server instead of a throwaway one")
    parser.add_argument("--out", type=Path, default=ROOT / ".schemafuzz",
                        help="folder for mutants.md / mutants.json")
    parser.add_argument("--list", action="store_true", help="print the catalogue and stop")
    parser.add_argument("--findings-cost", action="store_true",
                        help="time the whole default pytest properties on each chosen mutant "
                        "beside the clean schema (see the module docstring)")
    parser.add_argument("--shrink", action="store_true",
                        help="keep Hypothesis' shrink phase (minimal examples in the findings; "
                        "much slower for killed mutants)")
    options = parser.parse_args(argv)
    command = "python bench/mutants.py " + " ".join(argv if argv is not None else sys.argv[1:])

    provisioned = provision(options.db_url)
    try:
        factory = provisioned.factory
        print(f"server: {provisioned.description}", flush=True)
        mutants, dump = prepare(factory)
        if options.quick:
            by_id = {m.id: m for m in mutants}
            missing = [i for i in QUICK if i not in by_id]
            if missing:
                print(f"quick mutants missing from the catalogue: {missing}", file=sys.stderr)
                return 1
            mutants = [by_id[i] for i in QUICK]
        if options.only:
            mutants = [m for m in mutants if any(text in m.id for text in options.only)]
        if options.list:
            for m in mutants:
                print(f"{m.id:60} {m.selection.describe():55} "
                      f"{'EQUIVALENT' if m.equivalent else ''}")
            return 0
        if options.findings_cost:
            for line in findings_cost(mutants, dump, factory, options.timeout)[-1:]:
                print(line)
            return 0
        print(f"{len(mutants)} mutants, {options.workers} workers; selections:", flush=True)
        for line in selection_lines(m.kind for m in mutants)[2:]:
            print("  " + line.strip("|").replace(" | ", ": ", 1).strip(), flush=True)
        began = time.perf_counter()
        results = run_mutants(mutants, dump, factory, options.workers, options.timeout,
                              _progress, options.shrink)
        summary = summarise(results, time.perf_counter() - began, options.workers)
        summary.extra["shrink"] = options.shrink
    finally:
        provisioned.close()
    print()
    for line in table_lines(results):
        print(line)
    print()
    for line in _figures(summary):
        print(line)
    md, js = write_reports(results, summary, options.out, command.strip())
    print(f"report: {md} and {js.name}")
    return 0 if not summary.survived and not summary.errors else 1


if __name__ == "__main__":
    sys.exit(main())
