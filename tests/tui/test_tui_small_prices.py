"""The desk with a currency pair's prices (EURUSD at 1.19): its tables show four decimals.

In cents, a position bought at 1.1923 and marked at 1.1926 read 1.19 and 1.19, and the prices
table could not show a move of the day; ``core.prices`` writes prices under 10 to four decimals.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import DataTable
from tui_helpers import wait_for

from tui_trader.core.domain import IterationReport, Position, TradingState
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.state import SessionInfo

INFO = SessionInfo("k1", "local", "local paper broker", ("EURUSD",), 1e5, 5.0, 2.0, 100, False)
WHEN = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


async def test_the_dashboard_shows_a_currency_pairs_prices_to_four_decimals(db_path) -> None:
    """An EURUSD position of 8,000 at 1.1923, marked at 1.1926: both shown whole."""
    report = IterationReport(
        1, WHEN, 90_461.6, 100_002.4, 90_461.6, 1, 1, 0, TradingState.ACTIVE, 0.0, 2.4,
        positions=(Position("EURUSD", 8_000.0, 1.1923, 1.1926),),
        prices={"EURUSD": 1.1926},
    )  # fmt: skip
    app = make_app(db_path)
    async with app.run_test(size=(160, 40)) as pilot:
        app.post_message(SessionStarted(INFO))
        dashboard = app.dashboard
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.screen is dashboard, "the dashboard")
        await pilot.pause()
        app.post_message(SessionReport(report))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "the report")
        table = dashboard.query_one("#positions", DataTable)
        await wait_for(pilot, lambda: table.row_count >= 1, "the position row")
        cells = [str(c) for c in table.get_row_at(0)]
        assert "1.1923" in cells and "1.1926" in cells, cells
        prices = dashboard.query_one("#prices", DataTable)
        await wait_for(pilot, lambda: prices.row_count >= 1, "the prices row")
        assert "1.1926" in [str(c) for c in prices.get_row_at(0)]
        app.exit()
