"""The positions' TOTAL row gives the day's change only when every position has one.

On a session's first day (an Alpaca session's first bars, the sandbox's day) no position has a
previous close: each row's day change is ``—``, and the TOTAL row said ``+0.00``, a flat day on
the screen beside a Day PnL of -68.10. It is ``—`` now until every row has a change, then
their sum.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tui_helpers import wait_for

from tui_trader.core.domain import IterationReport, Position, TradingState
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.state import SessionInfo
from tui_trader.tui.widgets.fast_table import FastTable

INFO = SessionInfo("k1", "paper", "sandbox", ("SPY", "QQQ"), 1e5, 5.0, 2.0, 100, False)
MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
DAY_CHG = 3  # the column of the day's change at 80 columns


def _report(iteration: int, when: datetime, spy: float, qqq: float) -> IterationReport:
    """10 SPY and 5 QQQ held at the prices given."""
    positions = (Position("SPY", 10, 100.0, spy), Position("QQQ", 5, 400.0, qqq))
    return IterationReport(
        iteration, when, 90_000.0, 99_990.0, 90_000.0, 0, 0, 0, TradingState.ACTIVE, 0.0,
        -68.10, positions=positions, prices={"SPY": spy, "QQQ": qqq},
    )  # fmt: skip


def _total_day_change(app) -> str:
    table = app.screen.query_one("#positions", FastTable)
    return str(table.get_row_at(table.row_count - 1)[DAY_CHG])


async def test_the_total_day_change_is_unknown_until_every_position_has_one(
    db_path, frozen
) -> None:
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(SessionStarted(INFO))
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        app.post_message(SessionReport(_report(1, MONDAY, 101.0, 402.0)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "Monday's report")
        await wait_for(pilot, lambda: app.screen.query_one(FastTable).row_count == 3, "rows")
        assert _total_day_change(app) == "—"
        app.post_message(SessionReport(_report(2, TUESDAY, 102.5, 401.0)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 2, "Tuesday's report")
        # 10 x (102.5 - 101) + 5 x (401 - 402) = +15.00 - 5.00
        await wait_for(pilot, lambda: _total_day_change(app) == "+10.00", "the day's total")
