"""Two real ``tui-trader live paper`` processes on one sandbox account and one database.

What issue 12 found broken: the day's order limit counted per process, a halt in one session
overwritten by the other, and ``risk reset`` undone by the running session. Here both processes
run at once; the test waits on the database (with deadlines), never on sleeps. It runs on both
engines: one SQLite file, and one PostgreSQL database (as desks on several machines would share).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.pg import pg_sql

DEADLINE = 40.0


@pytest.fixture
def pumped() -> Iterator[SandboxHandle]:
    """A sandbox whose market a thread moves one bar every 30 ms (no request-rate limit: two
    sessions cycling every 0.1 s ask more than Alpaca's 200 a minute, another issue)."""
    with running_sandbox(faults="rate_limit=0") as sb:
        stop = threading.Event()

        def pump() -> None:
            while not stop.wait(0.03):
                sb.admin.step()

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        yield sb
        stop.set()
        thread.join(timeout=5)


Db = Path | str
"""The shared store: a SQLite file, or a PostgreSQL URL (its password in ``PGPASSWORD``)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Db:
    """The store both processes use, on each engine."""
    if request.param == "sqlite":
        return tmp_path / "shared.db"
    return str(request.getfixturevalue("pg_url"))


def _start(tmp_path: Path, sb: SandboxHandle, db: Db, name: str) -> subprocess.Popen[str]:
    """One ``live paper`` session that runs until interrupted (limit: 2 orders a day)."""
    env = cli_env(tmp_path) | sandbox_env(sb)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_trader",
            "live",
            "paper",
            "--iterations",
            "100000",
            "--every",
            "0.1",
            "--period",
            "1d",
            "--weights",
            "trend",
            "--max-orders-per-day",
            "2",
            "--max-position",
            "40",
            "--db",
            str(db),
        ],
        stdout=open(tmp_path / f"{name}.out", "w"),
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
        text=True,
    )


def _query(db: Db, sql: str, *args: object) -> list[tuple]:
    """Rows of one query on the shared database (a fresh connection each time)."""
    if isinstance(db, str):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            cur = conn.execute(pg_sql(sql), args)
            return cur.fetchall() if cur.description else []
    with sqlite3.connect(db, timeout=10) as con:
        return con.execute(sql, args).fetchall()


def _wait_for(what: str, check: Callable[[], bool], procs: list[subprocess.Popen[str]]) -> None:
    """Poll ``check`` until true, failing with ``what`` at the deadline or if a process ends."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (sqlite3.OperationalError, IndexError, psycopg_errors()):
            pass  # the tables are not created yet, or a writer holds the lock for a moment
        assert all(p.poll() is None for p in procs), f"a session ended while waiting for {what}"
        pause.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def psycopg_errors() -> type[Exception]:
    """psycopg's base error (a PostgreSQL store's tables may not exist yet)."""
    import psycopg

    return psycopg.Error


def _events(db: Db, session_id: int, kind: str) -> int:
    """How many risk events of ``kind`` a session wrote."""
    return _query(
        db,
        "SELECT count(*) FROM live_risk_events WHERE session_id = ? AND event_type = ?",
        session_id,
        kind,
    )[0][0]


def _cycles_pass(db: Db, session_id: int, n: int) -> Callable[[], bool]:
    """A check that turns true once the session has written ``n`` more snapshots."""
    sql = "SELECT count(*) FROM live_account_snapshots WHERE session_id = ?"
    start = _query(db, sql, session_id)[0][0]
    return lambda: _query(db, sql, session_id)[0][0] >= start + n


def test_two_processes_share_one_risk_state(
    pumped: SandboxHandle, tmp_path: Path, shared_db: Db
) -> None:
    """Limit 2 orders a day in each: 2 reach the broker in all. A halt requested for B stops A
    within a cycle and risk_state stays halted while both run; ``risk reset --yes`` is taken by
    both running sessions and stays ACTIVE."""
    db = shared_db
    a = _start(tmp_path, pumped, db, "a")
    b = _start(tmp_path, pumped, db, "b")
    procs = [a, b]
    try:
        _wait_for(
            "both sessions to start",
            lambda: (
                len(_query(db, "SELECT id FROM sessions")) == 2
                and _query(db, "SELECT count(*) FROM live_account_snapshots")[0][0] >= 4
            ),
            procs,
        )
        (id_a, account), (id_b, _) = _query(db, "SELECT id, account_key FROM sessions ORDER BY id")
        _wait_for(
            "the day's order limit to be reached",
            lambda: _query(db, "SELECT orders_today FROM risk_state")[0][0] >= 2,
            procs,
        )
        for sid in (id_a, id_b):
            _wait_for("a few more cycles", _cycles_pass(db, sid, 3), procs)
        assert _query(db, "SELECT count(*) FROM live_orders")[0][0] == 2
        assert pumped.admin.state()["orders"]["total"] == 2, "2 orders reached the broker"

        _query(
            db,
            "INSERT INTO halt_requests (session_id, timestamp, requested_by, reason, flatten)"
            " VALUES (?, ?, 'test', 'halt B', ?)",
            id_b,
            datetime.now(UTC).replace(tzinfo=None).isoformat(" "),
            False,
        )
        _wait_for("A to take B's halt", lambda: _events(db, id_a, "halt_adopted") == 1, procs)
        for sid in (id_a, id_b):
            _wait_for("a few more cycles", _cycles_pass(db, sid, 3), procs)
        assert _query(db, "SELECT state, halt_reason FROM risk_state") == [
            ("halted", "manual_kill")
        ]

        command = ["risk", "reset", "--yes", "--db", str(db), "--account", account]
        reset = subprocess.run(
            [sys.executable, "-m", "tui_trader", *command],
            capture_output=True,
            text=True,
            env=cli_env(tmp_path),
            cwd=tmp_path,
            timeout=60,
        )
        assert reset.returncode == 0, reset.stdout + reset.stderr
        for sid in (id_a, id_b):
            _wait_for("the reset to be taken", lambda s=sid: _events(db, s, "reset_adopted"), procs)
            _wait_for("a few more cycles", _cycles_pass(db, sid, 3), procs)
        assert _query(db, "SELECT state FROM risk_state") == [("active",)]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert a.returncode == 0 and b.returncode == 0
    assert _query(db, "SELECT state FROM risk_state") == [("active",)]
