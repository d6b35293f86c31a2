"""What a session found and did as it started is in the dashboard's Risk events.

The engine's start writes risk events of its own (earlier orders squared with the broker,
shares changed outside the desk, exits placed for the positions found, a skipped paper-to-live
gate) and ``tui-trader paper`` / ``live`` print them; the desk showed none of them: its Risk
events panel stayed empty while History and ``tui-trader risk`` listed them, so a desk started
live with ``--skip-readiness`` never showed the ``readiness_skipped`` its warning promised.
"""

from __future__ import annotations

from tui_helpers import capped_factory, wait_for

from tui_trader.core.domain import RiskEvent
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.widgets.fast_log import FastLog

BARS = 3
FOUND = RiskEvent(
    "outside_change", 50.0, 0.0, "left alone", symbol="SPY", detail="50 shares not traded here"
)


def _text(log: FastLog) -> str:
    """Everything the log holds, as plain text, its wrapped lines joined by single spaces."""
    return " ".join(" ".join("".join(s.text for s in strip).split()) for strip in log.lines)


async def test_the_events_a_session_wrote_as_it_started_are_in_risk_events(db_path, paced) -> None:
    """A session whose start recorded an event: the dashboard's Risk events shows it, before
    any event of its cycles."""
    capped = capped_factory(db_path, paced, BARS)

    def factory():
        session = capped()
        session.startup_events.append(FOUND)  # as the engine's start records one
        return session

    app = make_app(db_path, clock=paced, every=0.05, iterations=0, session_factory=factory)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: app.desk.latest is not None and isinstance(app.screen, DashboardScreen),
            "the session's first report on the dashboard",
        )
        log = app.screen.query_one("#events-log", FastLog)
        await wait_for(pilot, lambda: "outside_change" in _text(log), "the start's event")
        assert _text(log).startswith("outside_change")
        assert "left alone" in _text(log)
        app.handle.stop()
