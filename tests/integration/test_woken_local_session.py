"""A local session suspended long enough to be recorded dead, then woken (a laptop lid opened).

Another session's start records a local session whose heartbeat is stale as ``died`` and its
working orders ``canceled`` (``store.dead_local``). The suspended one, woken, must not go on
trading under a record that says it ended: its next heartbeat finds its row no longer
``running``, and it stops at once, in one plain line on stderr, with no new order.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import age_heartbeat, make_session
from tests.integration.cli_helpers import cli_env, run_cli
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.sim import SimMarket
from tui_trader.session.runner import SessionRunner
from tui_trader.store import session_rows
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import to_db_time
from tui_trader.store.dead_local import end_dead_local_sessions
from tui_trader.store.models import SessionRow

DEADLINE = 60.0
"""How long a wait on the child may take on a loaded two-core machine."""
FIRST = ("paper", "--iterations", "0", "--every", "0.2")
"""The desk that will be suspended: trading until stopped, a cycle every 0.2 s."""


def _rows(db: Path, sql: str, *args: object) -> list[tuple]:
    """Rows of ``sql`` read with a connection of our own (none while the tables are missing)."""
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=10) as con:
            return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []


def _wait_for(what: str, check) -> None:
    """Poll ``check`` until true, failing at the deadline."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.05)


def _stop_outside_a_transaction(child: subprocess.Popen[bytes], db: Path) -> None:
    """SIGSTOP ``child`` at a moment it holds no write lock on ``db`` (as a lid closing
    between cycles; one closing mid-cycle is retried a moment later)."""
    pause = threading.Event()
    deadline = time.monotonic() + DEADLINE
    while True:
        os.kill(child.pid, signal.SIGSTOP)
        con = sqlite3.connect(db, timeout=0)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
            return
        except sqlite3.OperationalError:  # stopped inside its cycle's transaction
            os.kill(child.pid, signal.SIGCONT)
            assert time.monotonic() < deadline, "the child never left its transaction"
            pause.wait(0.05)
        finally:
            con.close()


def test_a_local_session_recorded_died_while_suspended_stops_when_it_wakes(
    tmp_path: Path,
) -> None:
    """SIGSTOP a running ``tui-trader paper``, let its heartbeat go stale, start a second one
    (which records the first ``died``), SIGCONT: the first stops within seconds, says why
    on stderr, exits non-zero, sends no order after waking and leaves the record as it was."""
    db = tmp_path / "audit.db"
    out, err = tmp_path / "first.out", tmp_path / "first.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "tui_trader", *FIRST, "--db", str(db)],
            stdout=stdout,
            stderr=stderr,
            env=cli_env(tmp_path),
            cwd=tmp_path,
        )
    try:
        _wait_for("the first session's orders", lambda: _rows(db, "SELECT id FROM live_orders"))
        _stop_outside_a_transaction(child, db)
        [(key, session_id)] = _rows(db, "SELECT key, id FROM sessions")
        stale = to_db_time(datetime.now(UTC) - timedelta(hours=1))
        with sqlite3.connect(db, timeout=10) as con:  # an hour asleep, as the store sees it
            con.execute(
                "UPDATE sessions SET heartbeat_at = ?, heartbeat_uptime = heartbeat_uptime - "
                "3600 WHERE id = ?",
                (stale, session_id),
            )
        second = run_cli(tmp_path, "paper", "--iterations", "1", "--db", str(db))
        assert second.returncode == 0, second.stderr
        assert f"local session {key} died" in second.stdout
        orders_before = _rows(
            db, "SELECT id, status FROM live_orders WHERE session_id = ?", session_id
        )
        woke = datetime.now(UTC)
        os.kill(child.pid, signal.SIGCONT)
        child.wait(timeout=DEADLINE)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGCONT)
            child.kill()
            child.wait(timeout=30)
    assert child.returncode not in (0, None)
    lines = err.read_text().splitlines()
    assert lines == [
        f"tui-trader: error: this session ({key}) was recorded died by another session's start "
        "while it was suspended or not answering (its heartbeat went stale), and its working "
        "orders were recorded canceled; it stops now and sends no more orders"
    ], err.read_text()
    after = _rows(db, "SELECT id, status FROM live_orders WHERE session_id = ?", session_id)
    assert after == orders_before  # no new order, no order's status rewritten
    assert all(status in ("canceled", "filled", "rejected", "expired") for _, status in after)
    [(status,)] = _rows(db, "SELECT status FROM sessions WHERE id = ?", session_id)
    assert status == "died"
    newer = _rows(
        db,
        "SELECT COUNT(*) FROM live_orders WHERE session_id = ? AND timestamp >= ?",
        session_id,
        to_db_time(woke),
    )
    assert newer == [(0,)]


def test_a_batched_session_recorded_died_under_it_stops_halted_and_cancels_its_orders(
    tmp_path: Path, monkeypatch
) -> None:
    """The desk's and the batched replay's path: a session whose cycles share a transaction
    finds, at its next heartbeat, that another start recorded it ``died``. The run ends
    ``failed`` with the plain reason (the desk's HALTED banner shows it), trading is halted,
    the simulated account holds no working order any more (the record says canceled), and
    the record is left as it was: no new order row, the row still ``died``."""
    db = tmp_path / "audit.db"
    market = SimMarket(("SPY", "QQQ"), parse_interval("1m"), parse_period("1d"), seed=3)
    session = make_session(db, market=market, allocation_pct=40.0)
    audit = AuditLog(session.audit.db, session.clock, commit_every=50)
    audit.session = session.audit.session
    session.audit = audit
    for _ in range(200):  # until a cycle leaves an order working (it fills at the next bar)
        session.run_iteration()
        if session.broker.open_orders():
            break
    assert session.broker.open_orders(), "the scenario needs an order still working"
    audit.flush()
    row = audit.session
    age_heartbeat(row.id, 3600)  # an hour asleep, as the store sees it
    [dead] = end_dead_local_sessions(audit.db)  # another desk's start, as it records it
    assert dead.key == row.key and dead.orders > 0
    orders = _rows(db, "SELECT id, status FROM live_orders ORDER BY id")
    # Woken an hour later, a second or more between heartbeats: each one is due.
    clock = iter(range(int(time.monotonic()) + 3600, 10**12))
    monkeypatch.setattr(session_rows, "_since_boot", lambda: next(clock))

    result = SessionRunner(session, iterations=session.iteration + 40).run()

    assert (result.status, result.audit_failed) == ("failed", True)
    assert result.error is not None and result.error.startswith(
        f"this session ({row.key}) was recorded died by another session's start"
    )
    assert session.risk.state.halted
    assert session.broker.open_orders() == []
    assert _rows(db, "SELECT id, status FROM live_orders ORDER BY id") == orders
    assert SessionRow.get_by_id(row.id).status == "died"
