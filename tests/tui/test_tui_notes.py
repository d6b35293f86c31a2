"""The session's notes reach the desk: why an order was not sent, what the broker rejected.

The CLI printed each report's notes; the desk dropped them, so a ticket the broker refused
("insufficient position ... short selling is off") left only a terse order status behind, and a
broker not ready ("no new orders: ...") showed nothing at all.
"""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import Select
from tui_helpers import capped_desk, start_capped, wait_for

from tui_trader.core.domain import IterationReport, TradingState
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.ticket import TicketScreen
from tui_trader.tui.state import DeskState, SessionInfo
from tui_trader.tui.widgets.fast_log import FastLog

BARS = 12
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _report(iteration: int, notes: tuple[str, ...]) -> IterationReport:
    """A report that carries ``notes``."""
    return IterationReport(iteration, NOW, 0, 0, 0, 0, 0, 0, TradingState.ACTIVE, 0, 0, notes=notes)


def test_a_note_repeated_every_cycle_is_logged_once() -> None:
    """A broker that stays not ready says so each cycle: one line, until the note changes."""
    desk = DeskState()
    desk.start(SessionInfo("k", "local", "x", ("SPY",), 1e5, 5, 2, 100))
    waiting = "no new orders: the trade stream is reconnecting"
    for i in (1, 2, 3):
        desk.apply(_report(i, (waiting,)), NOW)
    desk.apply(_report(4, ()), NOW)
    desk.apply(_report(5, (waiting,)), NOW)
    assert list(desk.events) == [waiting, waiting]
    assert desk.events_seen == 2


def _log_text(log: FastLog) -> str:
    """Everything the log shows, as plain text, its wrapped lines joined by single spaces."""
    return " ".join(" ".join("".join(s.text for s in strip).split()) for strip in log.lines)


async def test_a_sell_of_more_than_is_held_says_why_on_the_dashboard(db_path, paced) -> None:
    """Sell 500 SPY in a local session that holds far fewer: the reason is in the dashboard's
    events log, in words (the risk gate refuses it before the broker sees it)."""
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_capped(pilot, app, BARS)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        app.screen.query_one("#ticket-side", Select).value = "sell"
        await pilot.press("5", "0", "0", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        log = app.screen.query_one("#events-log", FastLog)
        await wait_for(pilot, lambda: "short_sale_refused" in _log_text(log), "the refusal")
        assert "refused sell 500 SPY" in _log_text(log)
        assert "held and short selling is off" in _log_text(log)
        app.handle.stop()
