"""The desk's session end: quitting stamps the final snapshot with the market's time, and
SIGTERM/SIGHUP stop the session cleanly and quit, as ctrl+q and 'Stop and quit' do."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from tui_helpers import FROZEN_START, wait_for

from tui_trader.store.db import open_database
from tui_trader.store.models import AccountSnapshot, SessionRow
from tui_trader.tui.app import make_app

SIZE = (120, 36)


def final_and_previous() -> tuple[AccountSnapshot, AccountSnapshot, SessionRow]:
    """The session row, its last snapshot (written at stop) and the one before it."""
    row = SessionRow.get()
    last, previous = list(AccountSnapshot.select().order_by(AccountSnapshot.id.desc()).limit(2))
    return last, previous, row


async def test_quitting_stamps_the_final_snapshot_with_the_last_bars_time(
    db_path: Path, paced
) -> None:
    """The simulated market is in the past: the snapshot written at quit carries the last bar's
    time (what pnl and status group by), not the wall clock's."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first report")
        await pilot.press("ctrl+q")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: not app.is_running, "the app to exit")
    open_database(db_path)
    last, previous, row = final_and_previous()
    assert row.status == "stopped"
    assert last.market_time == previous.market_time
    assert last.market_time.date() != FROZEN_START.date()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
async def test_sigterm_and_sighup_stop_the_session_and_quit(
    db_path: Path, paced, signum: int
) -> None:
    """A signal while a session runs: no question asked, the session ends 'stopped' with its
    final snapshot, and the app exits."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first report")
        os.kill(os.getpid(), signum)
        await wait_for(pilot, lambda: not app.is_running, "the app to exit")
    open_database(db_path)
    last, _, row = final_and_previous()
    assert row.status == "stopped" and row.ended_at is not None
    assert last.iteration == row.iterations > 0
