"""Three real ``tui-trader live paper`` processes on one sandbox account and one database, and
the desk's Fleet screen over them: the day's order limit holds across the three, and one ctrl+k
on a row of the fleet halts all three within a cycle (the halt goes through the account's shared
risk state). The test waits on the database with deadlines, never on sleeps. It runs on both
engines: one SQLite file, and one PostgreSQL database (as desks on several machines would share).
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox
from tui_trader.store.pg import pg_sql

DEADLINE = 60.0
LIMIT = 2
"""``--max-orders-per-day`` of each session: the account sends this many in all."""


@pytest.fixture
def pumped() -> Iterator[SandboxHandle]:
    """A sandbox whose market a thread moves one bar every 30 ms (no request-rate limit: three
    sessions cycling every 0.1 s ask more than Alpaca's 200 a minute)."""
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
    """The store the three processes and the fleet view use, on each engine."""
    if request.param == "sqlite":
        return tmp_path / "shared.db"
    return str(request.getfixturevalue("pg_url"))


def _start(tmp_path: Path, sb: SandboxHandle, db: Db, name: str) -> subprocess.Popen[str]:
    """One ``live paper`` session that runs until interrupted."""
    env = cli_env(tmp_path) | sandbox_env(sb)
    command = ["live", "paper", "--iterations", "100000", "--every", "0.1", "--period", "1d"]
    command += ["--weights", "trend", "--max-orders-per-day", str(LIMIT), "--max-position", "40"]
    return subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *command, "--db", str(db)],
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
        except (sqlite3.OperationalError, IndexError, _psycopg_errors()):
            pass  # the tables are not created yet, or a writer holds the lock for a moment
        assert all(p.poll() is None for p in procs), f"a session ended while waiting for {what}"
        pause.wait(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _psycopg_errors() -> type[Exception]:
    """psycopg's base error (a PostgreSQL store's tables may not exist yet)."""
    import psycopg

    return psycopg.Error


def _snapshots(db: Db, session_id: int) -> int:
    """How many snapshots (one per cycle) a session has written."""
    sql = "SELECT count(*) FROM live_account_snapshots WHERE session_id = ?"
    return _query(db, sql, session_id)[0][0]


async def _halt_from_the_fleet(db: Db) -> tuple[str, str]:
    """Open the desk's Fleet screen on the database, ctrl+k on the first row, confirm; returns
    the confirmation's title and text."""
    from tui_trader.store.pg_url import parse_db_url
    from tui_trader.tui.app import make_app
    from tui_trader.tui.screens.confirm import ConfirmScreen
    from tui_trader.tui.screens.fleet import FleetScreen

    app = make_app(parse_db_url(db) if isinstance(db, str) else db, fleet_only=True)
    async with app.run_test(size=(120, 36)) as pilot:

        async def until(check: Callable[[], bool], what: str) -> None:
            deadline = time.monotonic() + DEADLINE
            while not check():
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                await pilot.pause(0.05)

        await until(lambda: isinstance(app.screen, FleetScreen), "the Fleet screen")
        screen = app.screen
        await until(lambda: sum(r.state == "running" for r in screen.rows) == 3, "3 rows")
        await pilot.press("ctrl+k")
        await until(
            lambda: isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#yes")),
            "the question and its buttons",
        )
        asked = (app.screen.title_text, app.screen.question)
        await pilot.click("#yes")
        await until(lambda: screen.halts == 1, "the halt to be written")
        await until(lambda: all(r.state == "halted" for r in screen.rows), "3 HALTED rows")
    return asked


def test_a_fleet_ctrl_k_halts_three_sessions_on_one_account(
    pumped: SandboxHandle, tmp_path: Path, shared_db: Db
) -> None:
    """Limit 2 orders a day in each of three sessions: 2 reach the broker in all. ctrl+k on one
    row of the Fleet screen, confirmed, halts the account; each of the three adopts the halt
    within one cycle of it being written, and they all end cleanly."""
    db = shared_db
    procs = [_start(tmp_path, pumped, db, name) for name in ("a", "b", "c")]
    try:
        _wait_for(
            "three sessions to start",
            lambda: (
                len(_query(db, "SELECT id FROM sessions")) == 3
                and _query(db, "SELECT count(DISTINCT session_id) FROM live_account_snapshots")
                == [(3,)]
            ),
            procs,
        )
        ids = [sid for (sid,) in _query(db, "SELECT id FROM sessions ORDER BY id")]
        assert len({key for (key,) in _query(db, "SELECT account_key FROM sessions")}) == 1
        _wait_for(
            "the day's order limit to be reached",
            lambda: _query(db, "SELECT orders_today FROM risk_state")[0][0] >= LIMIT,
            procs,
        )
        for sid in ids:  # every session has cycled with the limit reached
            start = _snapshots(db, sid)
            _wait_for("a few more cycles", lambda s=sid, n=start: _snapshots(db, s) >= n + 3, procs)
        assert _query(db, "SELECT count(*) FROM live_orders")[0][0] == LIMIT
        assert pumped.admin.state()["orders"]["total"] == LIMIT, "the limit held across three"

        title, question = asyncio.run(_halt_from_the_fleet(db))
        assert title.startswith("Halt account alpaca:")
        assert "3 running session(s)" in question
        (halted_at,) = _query(
            db, "SELECT timestamp FROM live_risk_events WHERE event_type = 'manual_kill'"
        )[0]
        for sid in ids:
            _wait_for(
                "the session to adopt the halt",
                lambda s=sid: (
                    _query(
                        db,
                        "SELECT count(*) FROM live_risk_events WHERE session_id = ? "
                        "AND event_type = 'halt_adopted'",
                        s,
                    )[0][0]
                    == 1
                ),
                procs,
            )
            (adopted_at,) = _query(
                db,
                "SELECT timestamp FROM live_risk_events WHERE session_id = ? "
                "AND event_type = 'halt_adopted'",
                sid,
            )[0]
            between = _query(
                db,
                "SELECT count(*) FROM live_account_snapshots WHERE session_id = ? "
                "AND timestamp > ? AND timestamp < ?",
                sid,
                halted_at,
                adopted_at,
            )[0][0]
            assert between <= 1, f"session {sid} ran {between} cycles before halting"
        assert _query(db, "SELECT state, halt_reason FROM risk_state") == [
            ("halted", "manual_kill")
        ]
        assert pumped.admin.state()["orders"]["total"] == LIMIT
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert [p.returncode for p in procs] == [0, 0, 0]
