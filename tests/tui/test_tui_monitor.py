"""``live monitor``: the dashboard follows a headless session in another process and its kill
switch reaches that process through the database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable
from tui_helpers import asking, scalar, wait_for

from tests.conftest import age_heartbeat
from tests.integration.cli_helpers import run_cli
from tui_trader.core.clock import WallClock
from tui_trader.core.domain import Account, Position, RiskEvent, TradingState
from tui_trader.engine.halts import BROKER_CONTRADICTION
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.risk.state import RiskState
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import SessionRow
from tui_trader.store.peewee_names import OperationalError
from tui_trader.store.risk_store import sync_risk_state
from tui_trader.tui import monitor_handle
from tui_trader.tui.app import make_app
from tui_trader.tui.monitor import DbFollower, MonitorError
from tui_trader.tui.monitor_handle import MonitorHandle
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.state import DeskState
from tui_trader.tui.widgets.deskbar import DeskBar

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def headless(db_path: Path) -> Iterator[subprocess.Popen]:
    """A paced headless paper session in its own process; killed at teardown."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", "paper", "--iterations", "0", "--every", "0.05",
         "--db", str(db_path)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def _snapshots(db: Path) -> int:
    """How many cycles the other process has recorded."""
    return int(scalar(db, "SELECT COUNT(*) FROM live_account_snapshots") or 0)


async def test_monitor_kill_switch_reaches_the_other_process(db_path, headless) -> None:
    """ctrl+k in the monitor: the session records manual_kill and sends no more orders."""
    app = make_app(db_path, monitor=MonitorHandle(DbFollower(db_path, None), poll_seconds=0.05))
    # the other process must have created its session before the monitor looks for it
    for _ in range(500):
        if _snapshots(db_path) >= 3:
            break
        headless.poll()
        assert headless.returncode is None, headless.stderr.read().decode()
        await __import__("asyncio").sleep(0.02)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first followed report")
        assert isinstance(app.screen, DashboardScreen)
        assert "another process" in app.desk.info.connection
        await wait_for(pilot, lambda: app.desk.latest.iteration >= 5, "a few iterations")
        orders = "SELECT COUNT(*) FROM live_orders"
        await wait_for(pilot, lambda: scalar(db_path, orders) > 0, "the session to trade")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        assert app.screen.title_text == "Halt requested"
        await pilot.press("escape")
        kills = "SELECT COUNT(*) FROM live_risk_events WHERE event_type = 'manual_kill'"
        # HALTED shows only once the session has written it, never on the monitor's say-so
        await wait_for(pilot, lambda: app.desk.halted, "HALTED on the monitor")
        assert scalar(db_path, "SELECT state FROM risk_state") == "halted"
        assert scalar(db_path, kills) == 1
        sent = scalar(db_path, orders)
        seen = _snapshots(db_path)
        await wait_for(pilot, lambda: _snapshots(db_path) >= seen + 5, "5 more iterations")
        assert scalar(db_path, orders) == sent
        assert scalar(db_path, "SELECT state FROM risk_state") == "halted"
        handled = "SELECT COUNT(*) FROM halt_requests WHERE handled_at IS NOT NULL"
        assert scalar(db_path, handled) == 1
        await wait_for(pilot, lambda: app.desk.latest.state == "halted", "the followed HALTED")
        assert headless.poll() is None


def _session(db_path: Path, beat_age: float) -> SessionRow:
    """A running session row whose last heartbeat is ``beat_age`` seconds old."""
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    age_heartbeat(row.id, beat_age)
    return row


def test_the_monitor_does_not_attach_to_a_dead_session(db_path: Path, tmp_path: Path) -> None:
    """The newest running session's heartbeat is 10 minutes old: the monitor refuses it by
    default (exit 2, one line naming it), follows it when named, and reports it dead."""
    dead = _session(db_path, beat_age=600)
    with pytest.raises(MonitorError, match=f"session {dead.key} died"):
        DbFollower(db_path, None).open()
    out = run_cli(tmp_path, "live", "monitor", "--db", str(db_path))
    assert out.returncode == 2
    assert f"session {dead.key} died" in out.stderr and len(out.stderr.splitlines()) == 1
    follower = DbFollower(db_path, dead.key)
    assert "DIED" in follower.open().connection
    assert follower.status() == "died"


def test_the_monitor_follows_the_newest_alive_session_and_ends_with_it(db_path: Path) -> None:
    """Two running rows: the newer is dead, the older alive: the monitor follows the alive
    one; when that one's heartbeat goes stale the monitor's loop ends saying it died."""
    alive = _session(db_path, beat_age=0)
    _session(db_path, beat_age=600)
    follower = DbFollower(db_path, None)
    assert follower.open().key == alive.key
    age_heartbeat(alive.id, 600)
    result = MonitorHandle(follower, poll_seconds=0.01).run(lambda report: None)
    assert result.status == "ended in the other process (died)"


async def test_the_monitor_marks_a_symbol_the_session_left_alone(db_path: Path) -> None:
    """The followed session left SPY alone (12 shares bought by hand): the monitor's positions
    show ``SPY*`` and the desk's note under them. Before, the monitor showed a plain SPY row
    (its P&L the broker's whole position's, as if all the desk's) and no note."""
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("paper", "alpaca", None, "test", ("SPY", "QQQ"), {})
    now = datetime.now(UTC)
    audit.risk_event(
        RiskEvent(OUTSIDE_CHANGE, 12.0, 0.0, "no more orders for SPY", "SPY", "bought by hand"),
        row.account_key,
        now,
    )
    held = {
        "SPY": Position("SPY", 32.0, 500.0, 505.0),
        "QQQ": Position("QQQ", 10.0, 400.0, 401.0),
    }
    audit.snapshot(
        1, Account(80_000.0, 100_000.0, 80_000.0), held, 0.0, 0.0, TradingState.ACTIVE, now
    )
    app = make_app(db_path, monitor=MonitorHandle(DbFollower(db_path, row.key), poll_seconds=0.05))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first followed report")
        dashboard = app.dashboard
        await wait_for(pilot, lambda: dashboard.query("#positions-note"), "its positions")
        note = dashboard.query_one("#positions-note")
        await wait_for(pilot, lambda: "left alone" in str(note.render()), "the note")
        assert str(note.render()) == "* SPY left alone: includes 12 shares not traded by this desk"
        table = dashboard.query_one("#positions", DataTable)
        symbols = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "SPY*" in symbols and "QQQ" in symbols, symbols
        app.exit()


def test_the_monitor_shows_the_first_halts_reason(db_path: Path) -> None:
    """The followed session was halted by ctrl+k, then the broker contradicted itself: the
    account's halt is still the kill, and the monitor's halt line says so. Before, it named
    the last halting event it read (the contradiction)."""
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("paper", "alpaca", None, "test", ("SPY",), {})
    now = datetime.now(UTC)
    kill = "kill switch pressed by ops: earnings call"
    for kind, words in ((MANUAL_KILL, kill), (BROKER_CONTRADICTION, "20 filled of 10")):
        event = RiskEvent(kind, 0.0, 0.0, "halted trading until reset", None, words)
        audit.risk_event(event, row.account_key, now)
    halted = RiskState(
        row.account_key, TradingState.HALTED, halt_reason=MANUAL_KILL, halt_detail=kill
    )
    sync_risk_state(audit.db, None, halted)
    audit.snapshot(1, Account(1e5, 1e5, 1e5), {}, 0.0, 0.0, TradingState.HALTED, now)
    follower = DbFollower(db_path, row.key)
    follower.open()
    desk = DeskState()
    for report in follower.poll():
        desk.apply(report, now)
    assert desk.halted and desk.halt_reason == f"{MANUAL_KILL}: {kill}"


class _StoreThatGoesAway(DbFollower):
    """A follower whose store stops answering while ``down`` is set (a PostgreSQL server
    restarting; the real restart: ``tests/integration/test_monitor_store_restart.py``)."""

    def __init__(self, db_path: Path, key: str) -> None:
        super().__init__(db_path, key)
        self.down = threading.Event()

    def poll(self) -> list:
        if self.down.is_set():
            raise OperationalError("server closed the connection unexpectedly")
        return super().poll()


async def test_the_monitor_says_the_store_is_unreachable_and_follows_again(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the first failed read ended the monitor for good, its bar saying "monitor
    stopped: OperationalError: ..." (the driver's class name) until it was restarted by hand."""
    monkeypatch.setattr(monitor_handle, "RETRY_SECONDS", 0.05)
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    now = datetime.now(UTC)
    audit.snapshot(
        1, Account(90_000.0, 100_000.0, 90_000.0), {}, 0.0, 0.0, TradingState.ACTIVE, now
    )
    follower = _StoreThatGoesAway(db_path, row.key)
    app = make_app(db_path, monitor=MonitorHandle(follower, poll_seconds=0.05))
    async with app.run_test(size=(160, 36)) as pilot:
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first followed report")
        bar = app.screen.query_one(DeskBar)
        follower.down.set()
        await wait_for(pilot, lambda: "STORE UNREACHABLE" in str(bar.render()), "unreachable")
        assert "Error" not in str(bar.render()) and not app.desk.ended
        assert app.desk.unreachable.startswith(f"the audit store {db_path} is unreachable (")
        follower.down.clear()
        audit.snapshot(
            2, Account(91_000.0, 100_000.0, 91_000.0), {}, 0.0, 0.0, TradingState.ACTIVE, now
        )
        await wait_for(pilot, lambda: app.desk.latest.iteration == 2, "followed again")
        await wait_for(pilot, lambda: "UNREACHABLE" not in str(bar.render()), "the bar cleared")
        assert not app.desk.ended
        app.exit()
