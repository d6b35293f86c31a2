"""A local session killed without ending: the next start records its working orders as ended.

The simulated account of a local session lives in its process; killed (kill -9, power loss), it
leaves its orders ``new`` and its row ``running``. The next session started on the store, in any
mode, records them ``canceled`` with why, and the row ``died``, exactly once; a session still
alive (here or on another machine), and an Alpaca session's orders, are never touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import make_session
from tests.integration.cli_helpers import ROOT, cli_env, run_cli
from tui_trader.core.clock import WallClock
from tui_trader.core.orders import OrderRequest, Side
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import from_db_time, open_database, to_db_time
from tui_trader.store.dead_local import end_dead_local_sessions
from tui_trader.store.models import LiveOrder, SessionRow
from tui_trader.store.pg_url import PgUrl

DEADLINE = 60.0
"""How long a wait on the child may take on a loaded two-core machine."""
DESKS = 4
"""Desks starting at once on one store."""

_CHILD = """
import sys
from pathlib import Path
from tests.conftest import BuyAndHold, make_session
from tui_trader.core.clock import WallClock
from tui_trader.session.runner import SessionRunner

session = make_session(
    Path(sys.argv[1]), clock=WallClock(), strategies=[BuyAndHold()], symbols=("SPY",)
)
# The first cycle buys; the buy fills on the next bar, an hour away: it stays working while
# the runner waits (beating its heartbeat), as a session between one-hour bars does.
SessionRunner(session, iterations=0, every=3600.0).run()
"""


def _wait(what: str, check, child: subprocess.Popen[str]) -> None:
    """Poll ``check`` until true, failing at the deadline or if ``child`` ended."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        if child.poll() is not None:
            raise AssertionError(f"the child ended while waiting for {what}")
        pause.wait(0.05)


def _killed_local_session(tmp_path: Path, db: Path) -> int:
    """Run a real local session in a child process until it has a buy working, then kill -9
    it; its process id."""
    env = cli_env(tmp_path) | {"PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        _wait("the buy to be working", lambda: _order_statuses(db) == ["new"], child)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    return child.pid


def _order_statuses(db: Path) -> list[str]:
    """The status of every order row, oldest first (read with a connection of its own)."""
    import sqlite3

    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as con:
            return [r[0] for r in con.execute("SELECT status FROM live_orders ORDER BY id")]
    except sqlite3.OperationalError:  # the tables are not made yet
        return []


def test_a_killed_local_session_s_working_order_is_recorded_ended_at_the_next_start(
    tmp_path: Path,
) -> None:
    """kill -9 with a buy working: the next ``tui-trader paper`` says so in one line, records
    the order ``canceled`` with the pid, host and last heartbeat, and the row ``died`` (ended
    at its last heartbeat); a second start finds nothing more to record."""
    db = tmp_path / "audit.db"
    pid = _killed_local_session(tmp_path, db)
    first = run_cli(tmp_path, "paper", "--iterations", "1", "--db", str(db))
    assert first.returncode == 0, first.stderr
    open_database(db)
    dead = SessionRow.get(SessionRow.pid == pid)
    beat = from_db_time(dead.heartbeat_at)
    assert beat is not None
    when = f"{beat:%Y-%m-%d %H:%M:%S} UTC"
    host = socket.gethostname()
    [note] = [line for line in first.stdout.splitlines() if line.startswith("note:")]
    assert note == (
        f"note: local session {dead.key} died (pid {pid} on {host}, last heartbeat {when}): "
        "1 working order(s) recorded canceled, its row recorded died; its simulated account "
        "ended with it"
    )
    assert (dead.status, from_db_time(dead.ended_at)) == ("died", beat)
    [order] = LiveOrder.select().where(LiveOrder.session == dead.id)
    assert (order.status, order.error) == (
        "canceled",
        f"the local session died (pid {pid} on {host}, last heartbeat {when}); its simulated "
        "account ended with it",
    )
    second = run_cli(tmp_path, "paper", "--iterations", "1", "--db", str(db))
    assert second.returncode == 0, second.stderr
    assert "died" not in second.stdout
    again = LiveOrder.get_by_id(order.id)
    assert (again.status, again.updated_at) == ("canceled", order.updated_at)


def _running_row(db: Path | PgUrl, mode: str, beat_age: float, host: str | None = None) -> int:
    """A ``running`` session row with one ``new`` order, its heartbeat ``beat_age`` seconds
    old and its host ``host`` (default this one, with this live process's id); its id."""
    audit = AuditLog(open_database(db), WallClock())
    row = audit.start_session(mode, "paper" if mode == "local" else "alpaca", None, "t", (), {})
    audit.order_pending(OrderRequest("SPY", Side.BUY, 5, f"tt-{row.key}-1-SPY-r"), 1, None)
    beat = to_db_time(datetime.now(UTC) - timedelta(seconds=beat_age))
    changes = {SessionRow.heartbeat_at: beat, SessionRow.host: host or socket.gethostname()}
    SessionRow.update(changes).where(SessionRow.id == row.id).execute()
    LiveOrder.update(status="new").where(LiveOrder.session == row.id).execute()
    return row.id


def _state(session_id: int) -> tuple[str, list[str]]:
    """A session row's status and its orders' statuses."""
    orders = LiveOrder.select().where(LiveOrder.session == session_id)
    return SessionRow.get_by_id(session_id).status, [o.status for o in orders]


def test_a_session_still_alive_and_an_alpaca_session_are_never_touched(store: Path | PgUrl) -> None:
    """Alive here (fresh heartbeat, this process), alive on another machine (fresh heartbeat),
    an Alpaca session long dead (its orders are Alpaca's to settle): all kept as they are.
    Only the local session on another machine whose heartbeat is stale is recorded ended. On
    SQLite and on a PostgreSQL store shared by several desks alike."""
    here = _running_row(store, "local", 0)
    there = _running_row(store, "local", 5, host="desk-b")
    alpaca = _running_row(store, "paper", 600, host="desk-b")
    stale = _running_row(store, "local", 600, host="desk-b")
    session = make_session(store)
    assert len(session.startup_notes) == 1 and "died (pid" in session.startup_notes[0]
    for alive in (here, there, alpaca):
        assert _state(alive) == ("running", ["new"])
    assert _state(stale) == ("died", ["canceled"])
    assert _state(session.audit.session.id)[0] == "running"


def test_two_starts_at_once_record_a_dead_session_once(store: Path | PgUrl) -> None:
    """Four desks (threads, each its own connection) record at the same moment: one records the
    dead session and its two orders, the others find nothing left (SQLite's write lock, or
    PostgreSQL's row lock)."""
    dead = _running_row(store, "local", 600, host="desk-b")
    audit = AuditLog(open_database(store), WallClock())
    audit.order_pending(OrderRequest("QQQ", Side.SELL, 5, "tt-x-1-QQQ-r"), 1, None)
    LiveOrder.update(session=dead, status="partially_filled").where(
        LiveOrder.client_order_id == "tt-x-1-QQQ-r"
    ).execute()
    db = SessionRow._meta.database
    gate = threading.Barrier(DESKS)
    found: list[list] = []

    def start() -> None:
        gate.wait(timeout=DEADLINE)
        found.append(end_dead_local_sessions(db))
        db.close()

    desks = [threading.Thread(target=start) for _ in range(DESKS)]
    for desk in desks:
        desk.start()
    for desk in desks:
        desk.join(DEADLINE)
    assert sorted(len(f) for f in found) == [0] * (DESKS - 1) + [1]
    [[recorded]] = [f for f in found if f]
    assert recorded.orders == 2
    assert _state(dead) == ("died", ["canceled", "canceled"])


def test_db_verify_tells_of_a_dead_local_session_s_working_orders(
    db_path: Path, tmp_path: Path
) -> None:
    """``db verify`` (which only reads: it may be looking at a backup) counts what a dead local
    session left working, and says the next start records it; after that start, nothing."""
    _running_row(db_path, "local", 600, host="desk-b")
    _running_row(db_path, "local", 0)  # alive: not counted
    before = run_cli(tmp_path, "db", "verify", str(db_path))
    assert before.returncode == 0, before.stderr
    assert (
        "note: 1 local session(s) died without ending, 1 of their orders still recorded "
        "working; the next session started on this database records them canceled"
    ) in before.stdout
    make_session(db_path)
    after = run_cli(tmp_path, "db", "verify", str(db_path))
    assert after.returncode == 0, after.stderr
    assert "died" not in after.stdout
