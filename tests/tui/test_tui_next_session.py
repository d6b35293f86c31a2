"""A second session started from the same desk shows nothing of the first while it is built.

Found at the desk (day13): after a session was halted and stopped, F4 and Enter showed the
dashboard with the ended session's figures, its orders and its 'manual_kill -> halted trading'
line until the new session had been built (market data, the broker: seconds for Yahoo or
Alpaca), and its gauges (a 4.84%/5% drawdown) until the new one's first report.
"""

from __future__ import annotations

import threading

from textual.widgets import RichLog
from tui_helpers import asking, capped_factory, wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.setup import SetupScreen
from tui_trader.tui.widgets.deskbar import DeskBar
from tui_trader.tui.widgets.gauge import Gauge
from tui_trader.tui.widgets.line import TextLine

BARS = 5


def _log_text(screen, log_id: str) -> str:
    return "\n".join(strip.text for strip in screen.query_one(log_id, RichLog).lines)


async def test_the_next_session_shows_nothing_of_the_last_while_it_is_built(db_path, paced) -> None:
    built = capped_factory(db_path, paced, BARS)
    calls = {"n": 0}
    gate = threading.Event()

    def factory():
        calls["n"] += 1
        if calls["n"] > 1:  # the second session takes its time to build, as a broker may
            assert gate.wait(30), "the test never let the second session be built"
        return built()

    app = make_app(db_path, clock=paced, every=0.02, iterations=0, session_factory=factory)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "bars")
        first_key = app.desk.info.key
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        await pilot.press("escape")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        await wait_for(
            pilot, lambda: "manual_kill" in _log_text(dashboard, "#events-log"), "the kill's line"
        )
        app.handle.stop()
        await wait_for(pilot, lambda: app.desk.ended != "", "the first session ended")

        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen), "the setup")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await pilot.pause()
        bar = str(dashboard.query_one(DeskBar).render())
        assert "STARTING" in bar and first_key[:8] not in bar and "HALTED" not in bar
        assert _log_text(dashboard, "#events-log").strip() == ""
        assert _log_text(dashboard, "#orders-log").strip() == ""
        assert str(dashboard.query_one("#m-equity", TextLine).render()) == "—"
        assert all(str(g.render()) == "" for g in dashboard.query(Gauge))

        gate.set()
        await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "2nd")
        bar = str(dashboard.query_one(DeskBar).render())
        assert "ACTIVE" in bar and app.desk.info.key[:8] in bar and "STARTING" not in bar
        app.handle.stop()
