"""``live monitor``'s positions give each symbol's realized PnL, as the session's own desk does.

The monitor read only the session's total realized PnL from the store: every row's Real PnL
and the TOTAL row's read ``+0.00`` beside a desk that showed ``+48.18`` for the same session
(seen following a paper desk on the sandbox). It now sums the session's closed trades per
symbol: the account's round trips, rebuilt from its fills as ``report`` counts them (written
here as fills: ``answer32``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from textual.widgets import DataTable
from tui_helpers import wait_for

from tests.round_trip_fills import record_round_trip
from tui_trader.core.clock import WallClock
from tui_trader.core.domain import Account, Position, TradingState
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.tui.app import make_app
from tui_trader.tui.monitor import DbFollower
from tui_trader.tui.monitor_handle import MonitorHandle

REAL = -2  # the Real PnL column, the second from the right at every width


async def test_the_monitor_shows_each_symbol_s_realized_pnl(db_path: Path) -> None:
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("paper", "alpaca", None, "test", ("SPY", "QQQ", "IWM"), {})
    now = datetime.now(UTC)
    for symbol, pnl in (("SPY", 50.0), ("SPY", -1.82), ("QQQ", 24.51), ("IWM", -10.0)):
        record_round_trip(audit, symbol, pnl, now)
    held = {"SPY": Position("SPY", 38.0, 207.36, 207.78), "QQQ": Position("QQQ", 12, 412.0, 409.0)}
    audit.snapshot(
        1, Account(80_000.0, 100_000.0, 80_000.0), held, 0.0, 0.0, TradingState.ACTIVE, now
    )
    app = make_app(db_path, monitor=MonitorHandle(DbFollower(db_path, row.key), poll_seconds=0.05))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first followed report")
        table = app.dashboard.query_one("#positions", DataTable)

        def real() -> dict[str, str]:
            rows = (table.get_row_at(i) for i in range(table.row_count))
            return {str(cells[0]): str(cells[REAL]) for cells in rows}

        await wait_for(pilot, lambda: len(real()) == 3, "the positions")
        # IWM's -10.00 was closed before: in the TOTAL only
        assert real() == {"SPY": "+48.18", "QQQ": "+24.51", "TOTAL": "+62.69"}
        app.exit()
