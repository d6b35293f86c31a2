"""The history browser's PnL by day gives dollars to the cent, as the command line's ``pnl``.

Its cells were formatted as any number: four significant digits below one, so a day without
trades read Realized ``0`` beside a day's ``37.75``, and half a dollar read ``0.5``. The money
columns now read ``+0.00``, ``+0.50``, ``100,000.50``, realized and change signed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import DataTable
from tui_helpers import wait_for

from tests.round_trip_fills import record_round_trip
from tui_trader.core.clock import WallClock
from tui_trader.core.domain import Account, TradingState
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.history import HistoryScreen

MONDAY = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


async def test_pnl_by_day_shows_dollars_to_the_cent(db_path, frozen) -> None:
    audit = AuditLog(open_database(db_path), WallClock())
    audit.start_session("paper", "alpaca", None, "t", ("SPY",), {"start_cash": 100_000.0})
    audit.snapshot(1, Account(1e5, 100_000.0, 1e5), {}, 0.0, 0.0, TradingState.ACTIVE, MONDAY)
    record_round_trip(audit, "SPY", 0.5, TUESDAY)
    audit.snapshot(2, Account(1e5, 100_000.5, 1e5), {}, 0.0, 0.5, TradingState.ACTIVE, TUESDAY)
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        screen = app.screen
        await pilot.press("f8")
        await wait_for(
            pilot,
            lambda: screen.view == "pnl" and screen.loaded == screen.seq and screen.rows,
            "the days",
        )
        table = screen.query_one("#history-table", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows == [
            ["2026-11-24", "1", "+0.50", "100,000.50", "+0.50"],
            ["2026-11-23", "0", "+0.00", "100,000.00", "-"],  # every session: no start
        ]
