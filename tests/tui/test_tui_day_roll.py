"""An intraday session that runs into a new trading day: the desk says so and dates its clock.

The order count and the daily-loss gauge drop back to zero when the day rolls; without a word
a trader watching "Orders today 100 / 100" turn into "0 / 100" could not tell why, and the
market clock ("OPEN 11:14 ET") was the same on every day of the session.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tui_helpers import wait_for

from tui_trader.core.domain import IterationReport, TradingState
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.state import DeskState, SessionInfo, new_day_notice
from tui_trader.tui.widgets.deskbar import DeskBar

INFO = SessionInfo("k1", "local", "local paper broker", ("SPY",), 1e5, 5.0, 2.0, 100, False)
TUESDAY_CLOSE = datetime(2026, 11, 24, 20, 59, tzinfo=UTC)
"""15:59 New York: the last minute bar of Tuesday."""
WEDNESDAY_OPEN = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
"""09:30 New York: the first minute bar of Wednesday."""
FRIDAY_OPEN = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
"""09:30 New York on Friday 2026-11-27 (Thanksgiving closes Thursday): the next session."""


def _report(iteration: int, when: datetime, orders_today: int) -> IterationReport:
    """One minute bar's report."""
    return IterationReport(
        iteration,
        when,
        1e5,
        1e5,
        1e5,
        0,
        0,
        0,
        TradingState.ACTIVE,
        0.0,
        0.0,
        prices={"SPY": 100.0},
        orders_today=orders_today,
    )


def test_only_the_first_bar_of_a_new_day_is_a_new_day() -> None:
    """Bars within one day, and a report between bars, are no new day; the next day's first
    bar is, and the notice names the limits that start again."""
    desk = DeskState()
    desk.start(INFO)
    desk.apply(_report(1, TUESDAY_CLOSE.replace(minute=58), 99), TUESDAY_CLOSE)
    assert desk.new_day is None
    desk.apply(_report(2, TUESDAY_CLOSE, 100), TUESDAY_CLOSE)
    assert desk.new_day is None
    desk.apply(_report(3, WEDNESDAY_OPEN, 0), WEDNESDAY_OPEN)
    assert desk.new_day == WEDNESDAY_OPEN.date()
    assert new_day_notice(desk) == (
        "Wed 2026-11-25: orders today and the daily loss start again from zero "
        "(limits 100 orders, 2% loss)"
    )
    desk.apply(_report(3, WEDNESDAY_OPEN, 0), WEDNESDAY_OPEN)  # between bars: same day
    assert desk.new_day is None


def test_daily_bars_are_not_announced() -> None:
    """With daily bars every bar is a new day, and the bar's date is on the desk already."""
    desk = DeskState()
    desk.start(SessionInfo("k1", "local", "x", ("SPY",), 1e5, 5.0, 2.0, 100, True))
    desk.apply(_report(1, TUESDAY_CLOSE, 3), TUESDAY_CLOSE)
    desk.apply(_report(2, WEDNESDAY_OPEN, 0), WEDNESDAY_OPEN)
    assert desk.new_day is None


async def test_the_desk_announces_a_new_trading_day_and_dates_its_clock(db_path, frozen) -> None:
    """Tuesday's last bar, then Wednesday's first: one notification, and the desk bar's market
    clock carries the day, so the two opens do not read alike."""
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        app.post_message(SessionStarted(INFO))
        app.post_message(SessionReport(_report(1, TUESDAY_CLOSE, 100)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "Tuesday's bar")
        assert not any("New trading day" in (n.title or "") for n in app._notifications)
        bar = app.screen.query_one(DeskBar)
        await wait_for(pilot, lambda: "11-24 15:59 ET" in str(bar.render()), "Tuesday's clock")
        app.post_message(SessionReport(_report(2, WEDNESDAY_OPEN, 0)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 2, "Wednesday's bar")
        rolled = [n for n in app._notifications if n.title == "New trading day"]
        assert len(rolled) == 1 and rolled[0].message.startswith("Wed 2026-11-25: orders today")
        await wait_for(pilot, lambda: "OPEN 11-25 09:30 ET" in str(bar.render()), "Wednesday")
        # a fast replay: Friday follows at once; the clock moves on, no second notice piles up
        app.post_message(SessionReport(_report(3, FRIDAY_OPEN, 0)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 3, "Friday's bar")
        await wait_for(pilot, lambda: "OPEN 11-27 09:30 ET" in str(bar.render()), "Friday")
        assert len([n for n in app._notifications if n.title == "New trading day"]) == 1
