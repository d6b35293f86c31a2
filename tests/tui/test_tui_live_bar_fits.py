"""A LIVE desk's bar at 80 columns keeps its clock and its staleness whole.

The red "LIVE — REAL MONEY" badge takes 19 columns. With the market clock ("OPEN 11-24 10:00 ET
· closes in 6h00m") the bar ran past 80 columns even with the key, connection and iteration
dropped: the screen cut "updated 75s ago" to "updated 75s", and with the drawdown's exposure
cut showing, cut the staleness off entirely: a desk that had heard nothing for over a minute
looked live. Now the clock shortens to its session and countdown, then the exposure cut and the
staleness to their figures, and the whole bar fits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.cells import cell_len
from tui_helpers import wait_for

from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import IterationReport, TradingState
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.state import SessionInfo
from tui_trader.tui.widgets.deskbar import DeskBar

INFO = SessionInfo("k1", "live", "alpaca live broker", ("SPY",), 1e5, 5.0, 2.0, 100, False)
TUESDAY_10 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
"""10:00 New York, the market open (75 s later: 'closes in 5h58m')."""


def _report(state: TradingState, exposure: float) -> IterationReport:
    """A minute bar's report in ``state`` with the blend's exposure as given."""
    return IterationReport(
        1, TUESDAY_10, 95_200.0, 95_200.0, 95_200.0, 0, 0, 0, state, 4.8, 0.0,
        prices={"SPY": 100.0}, exposure=exposure,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("state", "exposure", "words"),
    [
        (TradingState.ACTIVE, 0.0612, ("ACTIVE", "OPEN", "closes in 5h58m", "exposure 6%")),
        (TradingState.HALTED, 1.0, ("HALTED", "OPEN", "closes in 5h58m", "updated 75s ago")),
    ],
)
async def test_a_live_bar_at_80_columns_keeps_its_clock_and_staleness(
    db_path, state: TradingState, exposure: float, words: tuple[str, ...]
) -> None:
    clock = FrozenClock(TUESDAY_10)
    app = make_app(db_path, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(SessionStarted(INFO))
        app.post_message(SessionReport(_report(state, exposure)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "the report")
        clock._now += timedelta(seconds=75)  # nothing heard for 75 s
        bar = app.screen.query_one(DeskBar)
        await wait_for(pilot, lambda: "75s ago" in str(bar.render()), "the staleness")
        shown = str(bar.render())
        assert cell_len(shown) <= bar.content_size.width, shown
        assert shown.startswith(" LIVE — REAL MONEY ")
        for word in words:
            assert word in shown, shown
