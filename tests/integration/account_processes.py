"""Helpers for the tests that run several real ``tui-trader live paper`` processes on one sandbox
account and one shared store (a SQLite file, or a PostgreSQL URL with its password in
``PGPASSWORD``): start a session, query the store, and wait on it with a deadline, never a sleep.
The ``pumped`` and ``shared_db`` fixtures that go with them are in this folder's conftest.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.market.calendar import session_day
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.pg import pg_sql

Db = Path | str
"""The shared store: a SQLite file, or a PostgreSQL URL (its password in ``PGPASSWORD``)."""

DEADLINE = 180.0
"""How long any one wait may take: a hang guard. A loaded two-core machine runs three sessions
at once, each start up to 30 s; three desks took 55 s in all at a load of 15, so 60 s a wait
was within reach of a loaded full run."""
PROCESSES_RUN_WITHIN_S = 600
"""pytest's limit for a test of desks in processes (``pytestmark`` of their files): its waits
are ``DEADLINE`` each, past the 120 s pytest gives a test by default."""


def start_live_paper(
    tmp_path: Path,
    sb: SandboxHandle,
    db: Db,
    name: str,
    *,
    max_orders: int,
    run: tuple[str, ...] = ("-m", "tui_trader"),
) -> subprocess.Popen[str]:
    """One ``live paper`` session on the sandbox that runs until interrupted, its output in
    ``<name>.out``: a 0.1 s cycle, the trend rule, ``max_orders`` orders a day, 40% a symbol,
    no wait for the desk's request budget (``FAST_BUDGET``: the ``pumped`` sandbox has no rate
    limit, and these tests wait on cycles, orders and halts, not on the budget). ``run``: what
    the interpreter runs, the command's arguments after it (a script that changes the session
    first, with ``-c``)."""
    command = ["live", "paper", "--iterations", "100000", "--every", "0.1", "--period", "1d"]
    command += [*FAST_BUDGET]
    command += ["--weights", "trend", "--max-orders-per-day", str(max_orders)]
    command += ["--max-position", "40", "--db", str(db)]
    return subprocess.Popen(
        [sys.executable, *run, *command],
        stdout=open(tmp_path / f"{name}.out", "w"),
        stderr=subprocess.STDOUT,
        env=cli_env(tmp_path) | sandbox_env(sb),
        cwd=tmp_path,
        text=True,
    )


def query(db: Db, sql: str, *args: object) -> list[tuple]:
    """Rows of one query on the shared store (a fresh connection each time)."""
    if isinstance(db, str):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            cur = conn.execute(pg_sql(sql), args)
            return cur.fetchall() if cur.description else []
    with sqlite3.connect(db, timeout=10) as con:
        return con.execute(sql, args).fetchall()


def orders_per_trading_day(db: Db) -> list[int]:
    """The audit trail's orders counted per trading session of their market time, the day
    ``--max-orders-per-day`` counts in for an Alpaca session (the exchange calendar's session,
    from one pre-market at 04:00 New York to the next), oldest first. The ``pumped`` sandbox
    moves a bar every 30 ms, a session of its 24-hour market in about a minute: a loaded
    machine's test sees the next session begin, whose orders the limit counts afresh."""
    days: Counter[date] = Counter()
    for (stamp,) in query(db, "SELECT market_time FROM live_orders ORDER BY id"):
        when = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(str(stamp))
        days[session_day(when.replace(tzinfo=UTC) if when.tzinfo is None else when)] += 1
    return [days[day] for day in sorted(days)]


def wait_for(what: str, check: Callable[[], bool], procs: list[subprocess.Popen[str]]) -> None:
    """Poll ``check`` until true, failing with ``what`` at the deadline or if a process ends."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (sqlite3.OperationalError, IndexError, _psycopg_error()):
            pass  # the tables are not created yet, or a writer holds the lock for a moment
        assert all(p.poll() is None for p in procs), f"a session ended while waiting for {what}"
        pause.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _psycopg_error() -> type[Exception]:
    """psycopg's base error (a PostgreSQL store's tables may not exist yet)."""
    import psycopg

    return psycopg.Error


def snapshots(db: Db, session_id: int) -> int:
    """How many snapshots (one per cycle) a session has written."""
    sql = "SELECT count(*) FROM live_account_snapshots WHERE session_id = ?"
    return query(db, sql, session_id)[0][0]


def cycles_pass(db: Db, session_id: int, n: int) -> Callable[[], bool]:
    """A check that turns true once the session has written ``n`` more snapshots."""
    start = snapshots(db, session_id)
    return lambda: snapshots(db, session_id) >= start + n


def stop_all(procs: list[subprocess.Popen[str]]) -> None:
    """Ctrl+C to every session still running (each finishes its cycle and writes its end), then
    wait for each; one that does not end in 30 s is killed (and its exit code shows it)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
