"""The dashboard's first draw never runs before its positions table has its columns.

The dashboard is made when first shown (``app.dashboard``), and its position columns depend on
the screen's width. A session whose first report (with a position) was already on the desk
when the dashboard was first shown (a session begun and reported before f2 was pressed) crashed
the desk: the screen's resume drew the positions before the first resize had added any column
(``ValueError: More values provided than there are columns``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from tui_helpers import wait_for

from tui_trader.core.domain import IterationReport, Position, TradingState
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.state import SessionInfo
from tui_trader.tui.widgets.fast_table import FastTable

INFO = SessionInfo("k1", "local", "local paper broker", ("SPY",), 1e5, 5.0, 2.0, 100, True)
WHEN = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)


def _report() -> IterationReport:
    """A cycle's report holding 10 SPY."""
    return IterationReport(
        1,
        WHEN,
        99_000.0,
        100_000.0,
        99_000.0,
        1,
        1,
        0,
        TradingState.ACTIVE,
        0.0,
        0.0,
        positions=(Position("SPY", 10.0, 100.0, 100.0),),
        prices={"SPY": 100.0},
    )


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_a_session_reported_before_the_dashboard_was_first_shown_draws_it(
    db_path, frozen, size: tuple[int, int]
) -> None:
    """Compact and wide columns: the position shows, the desk does not crash."""
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=size) as pilot:
        app.post_message(SessionStarted(INFO))
        app.post_message(SessionReport(_report()))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "the first report")
        assert app._dashboard is None or not app._dashboard.is_mounted
        await pilot.press("f2")
        # the screen is current before its children are mounted: wait for the table itself
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DashboardScreen) and app.screen.query("#positions"),
            "the dashboard's positions table",
        )
        table = app.screen.query_one("#positions", FastTable)
        await wait_for(pilot, lambda: table.row_count >= 1, "the position's row")
        assert "SPY" in str(table.get_row_at(0)[0])


@pytest.mark.parametrize("turns", range(8))
async def test_a_dashboard_first_shown_as_the_desk_quits_does_not_crash_the_exit(
    db_path, frozen, turns: int
) -> None:
    """F2 with a session's report on the desk, then a quit before the dashboard has mounted:
    Textual stops waiting for a screen's widgets once the app exits, so the dashboard mounted
    with some of them missing and its first draw crashed the exit (``No nodes match
    '#orders-log'``, or '#prices', '#equity-plot', by how far the mount had got: seen once
    under load). Each number of event-loop turns between the two stops it at another point."""
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(SessionStarted(INFO))
        app.post_message(SessionReport(_report()))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "the first report")
        app.action_show_dashboard()
        for _ in range(turns):
            await asyncio.sleep(0)
        app.exit()
    assert app.return_code == 0
