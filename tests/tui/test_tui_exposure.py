"""The desk says when the drawdown cuts the learning blend's exposure.

Near the drawdown limit the blend trades a share of its targets, and close to it every target
rounds to no share: an ACTIVE session then trades nothing for as long as its equity stays flat
(a flat account never wins its drawdown back). A trader saw ACTIVE and no trade with no word
why; the desk bar now says so on every screen, and the learning panel gives the figures.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tui_helpers import wait_for

from tui_trader.core.domain import IterationReport, TradingState
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionReport, SessionStarted
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.state import SessionInfo
from tui_trader.tui.widgets.deskbar import DeskBar

INFO = SessionInfo("k1", "local", "local paper broker", ("SPY",), 1e5, 5.0, 2.0, 100, True)
WHEN = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
NOTE = "drawdown 4.8% of 5.0%: exposure x0.0612"


def _report(iteration: int, exposure: float, state: TradingState) -> IterationReport:
    """A daily bar's report with the blend's exposure as given."""
    return IterationReport(
        iteration,
        WHEN,
        95_200.0,
        95_200.0,
        95_200.0,
        0,
        0,
        0,
        state,
        4.8,
        0.0,
        prices={"SPY": 100.0},
        regimes={"SPY": "bear/volatile"},
        weights={"trend": 1.0},
        exposure=exposure,
        exposure_note=NOTE if exposure < 1.0 else "",
    )


async def test_the_desk_bar_says_the_drawdown_cut_the_exposure(db_path, frozen) -> None:
    """At 80 columns too: 'exposure cut to 6%' while the cut lasts, gone at full exposure, and
    not beside HALTED (a halt says more)."""
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(80, 24)) as pilot:
        app.post_message(SessionStarted(INFO))
        app.post_message(SessionReport(_report(1, 0.0612, TradingState.ACTIVE)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "the first report")
        bar = app.screen.query_one(DeskBar)
        await wait_for(pilot, lambda: "exposure cut to 6%" in str(bar.render()), "the cut")
        assert "ACTIVE" in str(bar.render())
        app.post_message(SessionReport(_report(2, 1.0, TradingState.ACTIVE)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 2, "the second report")
        await wait_for(pilot, lambda: "exposure" not in str(bar.render()), "full exposure")
        app.post_message(SessionReport(_report(3, 0.0, TradingState.HALTED)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 3, "the halt")
        await wait_for(pilot, lambda: "HALTED" in str(bar.render()), "HALTED")
        assert "exposure" not in str(bar.render())


async def test_the_learning_panel_gives_the_cut_in_figures(db_path, frozen) -> None:
    """On a screen large enough for the learning panel, the cut's figures head it."""
    app = make_app(db_path, clock=frozen)
    async with app.run_test(size=(160, 45)) as pilot:
        app.post_message(SessionStarted(INFO))
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        app.post_message(SessionReport(_report(1, 0.0612, TradingState.ACTIVE)))
        await wait_for(pilot, lambda: app.desk.reports_applied == 1, "the first report")
        panel = app.screen.query_one("#learning")
        await wait_for(pilot, lambda: NOTE in str(panel.render()), "the figures")
