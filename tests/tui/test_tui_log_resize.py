"""The dashboard's logs show their newest lines, wrapped to their width, after a resize.

A log keeps the lines it was given, wrapped at the width it had then. Resized, it kept its
scroll offset and its old wrapping: made smaller, the newest risk events (a halt, its reset)
sank below the panel's edge, so the panel's last line read as the latest event when it was not;
made narrower, every line wrapped for the wide panel was cut at the new edge ("manual_kill →
halted trading until reset; cancel" without the count of cancelled orders); made larger, the
panel even scrolled back to older lines.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tui_helpers import wait_for

from tui_trader.core.domain import IterationReport, RiskEvent, TradingState
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.state import SessionInfo
from tui_trader.tui.widgets.fast_log import FastLog

INFO = SessionInfo("k1", "local", "local paper broker", ("SPY",), 1e5, 5.0, 2.0, 100, True)
WHEN = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
EVENTS = 20


def _report(iteration: int) -> IterationReport:
    """A bar whose risk event is long enough to wrap in any panel, numbered by the bar."""
    event = RiskEvent(
        "resume_refused",
        0.0,
        0.0,
        f"resume by user refused: event {iteration} of the day, said in words long enough to "
        "wrap in every width the panel takes",
    )
    return IterationReport(
        iteration, WHEN, 1e5, 1e5, 1e5, 0, 0, 0, TradingState.ACTIVE, 0.0, 0.0, risk_events=(event,)
    )


def _shown(log: FastLog) -> str:
    """The text of the log's lines in its window, joined."""
    top = round(log.scroll_y)
    window = log.lines[top : top + log.scrollable_content_region.height]
    return " ".join("".join(segment.text for segment in strip).strip() for strip in window)


@pytest.mark.parametrize(
    ("first", "then"),
    [((200, 50), (120, 36)), ((200, 50), (80, 24)), ((80, 24), (200, 50)), ((80, 24), (120, 36))],
)
async def test_the_events_log_shows_its_newest_event_whole_after_a_resize(
    db_path, frozen, first: tuple[int, int], then: tuple[int, int]
) -> None:
    """Twenty events at one size, then another size: the last event's end is in the panel's
    window, and no line is wider than the panel (none is cut at its edge)."""
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=first) as pilot:
        app.post_message(SessionStarted(INFO))
        await pilot.press("f2")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, DashboardScreen) and app.screen.query("#events-log"),
            "the dashboard's events log",
        )
        for iteration in range(1, EVENTS + 1):
            app.post_message(SessionReport(_report(iteration)))
        await wait_for(pilot, lambda: app.desk.reports_applied == EVENTS, "the reports")
        log = app.screen.query_one("#events-log", FastLog)
        await wait_for(pilot, lambda: "takes" in _shown(log).split()[-1:], "the newest line")
        before = log.scrollable_content_region.width
        await pilot.resize_terminal(*then)
        await wait_for(pilot, lambda: tuple(app.screen.size) == then, "the new size")
        await pilot.pause()
        width = log.scrollable_content_region.width
        await wait_for(
            pilot,
            lambda: max(strip.cell_length for strip in log.lines) <= width,
            "the lines wrapped to the panel's new width",
        )
        if width > before:  # a wider panel takes the lines at its width: none cut short
            assert max(strip.cell_length for strip in log.lines) > before
        await wait_for(
            pilot, lambda: _shown(log).endswith("the panel takes"), "the newest line in view"
        )
        assert f"event {EVENTS} of the day" in _shown(log)
