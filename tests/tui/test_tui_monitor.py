"""``live monitor``: the dashboard follows a headless session in another process and its kill
switch reaches that process through the database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_helpers import scalar, wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.monitor import DbFollower, MonitorHandle
from tui_trader.tui.screens.confirm import ConfirmScreen
from tui_trader.tui.screens.dashboard import DashboardScreen

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
        assert app.halted
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        kills = "SELECT COUNT(*) FROM live_risk_events WHERE event_type = 'manual_kill'"
        await wait_for(pilot, lambda: scalar(db_path, kills) == 1, "manual_kill in the DB")
        sent = scalar(db_path, orders)
        seen = _snapshots(db_path)
        await wait_for(pilot, lambda: _snapshots(db_path) >= seen + 5, "5 more iterations")
        assert scalar(db_path, orders) == sent
        assert scalar(db_path, "SELECT state FROM risk_state") == "halted"
        handled = "SELECT COUNT(*) FROM halt_requests WHERE handled_at IS NOT NULL"
        assert scalar(db_path, handled) == 1
        await wait_for(pilot, lambda: app.desk.latest.state == "halted", "the followed HALTED")
        assert headless.poll() is None
