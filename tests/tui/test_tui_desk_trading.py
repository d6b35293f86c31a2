"""Trading by hand from the desk, and a dashboard that keeps its essentials at 80x24."""

from __future__ import annotations

import pytest
from textual.geometry import Region
from textual.widgets import Select
from tui_helpers import asking, capped_factory, scalar, wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.history import HistoryScreen
from tui_trader.tui.screens.setup import SetupScreen
from tui_trader.tui.screens.ticket import TicketScreen
from tui_trader.tui.screens.working import WorkingOrdersScreen
from tui_trader.tui.widgets.desk_footer import DeskFooter

BARS = 12


def _capped(db_path, clock, mode: str = "local"):
    """A session that serves ``BARS`` bars, then waits (market orders stay working)."""
    return capped_factory(db_path, clock, BARS, mode)


async def _started(app, pilot) -> None:
    """Enter on setup, then wait for the capped market's last bar."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "bars")


def _manual_rows(db_path) -> int:
    """Orders the audit trail holds with a manual rationale."""
    return scalar(db_path, "SELECT COUNT(*) FROM live_orders WHERE rationale LIKE 'manual%'")


def _inside(widget, screen_region: Region) -> bool:
    """Whether a widget is displayed with a non-empty region wholly on the screen."""
    region = widget.region
    return widget.display and region.area > 0 and screen_region.contains_region(region)


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 50)])
async def test_the_dashboard_keeps_its_essentials_on_screen(db_path, paced, size) -> None:
    """At 80x24 (and larger) equity, the three gauges, positions, orders & fills, risk events
    and the kill-switch key are all on screen, and no two gauges share a cell."""
    app = make_app(
        db_path, clock=paced, every=0.05, iterations=0, session_factory=_capped(db_path, paced)
    )
    async with app.run_test(size=size) as pilot:
        await _started(app, pilot)
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        whole = screen.region
        for selector in (
            "#m-equity",
            "#g-drawdown",
            "#g-daily",
            "#g-orders",
            "#positions",
            "#orders-log",
            "#events-log",
        ):
            assert _inside(screen.query_one(selector), whole), selector
        gauges = [screen.query_one(f"#g-{g}").region for g in ("drawdown", "daily", "orders")]
        assert gauges[0].right < gauges[1].x and gauges[1].right < gauges[2].x

        def kill_key_on_screen() -> bool:  # the footer recomposes when the keys change
            footer = screen.query_one(DeskFooter).children
            kill = [k for k in footer if getattr(k, "key", "") == "ctrl+k"]
            return bool(kill) and _inside(kill[0], whole)

        await wait_for(pilot, kill_key_on_screen, "the kill-switch key on screen")
        app.handle.stop()


async def test_the_kill_switch_key_leads_the_history_footer_at_80_columns(db_path) -> None:
    """The history browser's own keys used to push ^k off an 80-column footer."""
    app = make_app(db_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        footer = app.screen.query_one(DeskFooter)

        def first_key_is_kill_on_screen() -> bool:
            keys = [k for k in footer.children if hasattr(k, "key")]
            return bool(keys) and keys[0].key == "ctrl+k" and _inside(keys[0], app.screen.region)

        await wait_for(pilot, first_key_is_kill_on_screen, "^k first and on screen")


async def test_a_ticket_sends_a_manual_order_through_the_session(db_path, paced) -> None:
    """t, 5, Enter: a LOCAL ticket goes straight to the session, is recorded with a manual
    rationale before it is sent, and shows in the working-orders panel, where x cancels it."""
    app = make_app(
        db_path, clock=paced, every=0.05, iterations=0, session_factory=_capped(db_path, paced)
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await _started(app, pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        await pilot.press("5", "enter")
        await wait_for(pilot, lambda: _manual_rows(db_path) == 1, "the manual order row")
        await wait_for(
            pilot,
            lambda: any(w.order.client_order_id.endswith("-m1") for w in app.desk.working.values()),
            "the order in the working list",
        )
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkingOrdersScreen), "the panel")
        table = app.screen.query_one("#working-orders")
        keys = [str(k.value) for k in table.rows]
        index = next(i for i, k in enumerate(keys) if k.endswith("-m1"))
        table.move_cursor(row=index)
        await pilot.press("x")
        canceled = "SELECT status FROM live_orders WHERE rationale LIKE 'manual%'"
        await wait_for(pilot, lambda: scalar(db_path, canceled) == "canceled", "the cancel")
        await wait_for(
            pilot,
            lambda: not any(k.endswith("-m1") for k in app.desk.working),
            "the order gone from the working list",
        )
        app.handle.stop()


async def test_a_paper_ticket_asks_before_sending(db_path, paced) -> None:
    """In PAPER mode the ticket is confirmed first; "Do not send" sends nothing."""
    factory = _capped(db_path, paced, mode="paper")
    app = make_app(db_path, clock=paced, every=0.05, iterations=0, session_factory=factory)
    async with app.run_test(size=(120, 36)) as pilot:
        await _started(app, pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        await pilot.press("5", "enter")
        await wait_for(pilot, lambda: asking(app), "the confirmation")
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert _manual_rows(db_path) == 0
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        await pilot.press("5", "enter")
        await wait_for(pilot, lambda: asking(app), "the confirmation")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: _manual_rows(db_path) == 1, "the manual order row")
        app.handle.stop()


async def test_stop_ends_the_session_but_not_the_desk_and_f4_explains(db_path, paced) -> None:
    """F4 while running says why not; ctrl+s (confirmed) stops the session, the app stays on
    the dashboard, and F4 then opens setup."""
    app = make_app(
        db_path, clock=paced, every=0.05, iterations=0, session_factory=_capped(db_path, paced)
    )
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await _started(app, pilot)
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert any("unavailable while a session runs" in n.message for n in app._notifications)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: asking(app), "the confirmation")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: not app.running, "the session to stop")
        assert app.is_running and isinstance(app.screen, DashboardScreen)
        assert scalar(db_path, "SELECT status FROM sessions") == "stopped"
        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen), "setup")


async def test_the_halted_frame_goes_from_the_dashboard_when_resumed_elsewhere(
    db_path, paced
) -> None:
    """Halt on the dashboard, resume from the history browser: back on the dashboard, the red
    frame is gone (it stayed: clearing the ``border`` rule left its four sides set)."""
    app = make_app(
        db_path, clock=paced, every=0.05, iterations=0, session_factory=_capped(db_path, paced)
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await _started(app, pilot)
        dashboard = app.screen
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.press("escape")
        assert dashboard.styles.border_top[0] == "heavy"
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        await wait_for(pilot, lambda: app.desk.latest.state == "halted", "the halted report")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.pause()
        await pilot.click("#yes")
        await wait_for(pilot, lambda: not app.halted, "the halt to lift", tries=600)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await wait_for(
            pilot, lambda: dashboard.styles.border_top[0] in ("", "none"), "the red frame to go"
        )
        app.handle.stop()


async def test_setup_has_no_hidden_tab_stop_and_hides_local_only_data(db_path) -> None:
    """Tab after Start wraps to the Mode field; an Alpaca mode hides the data source and says
    'no credentials found' once."""
    app = make_app(db_path)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert app.focused is screen.query_one("#start")
        await pilot.press("tab")
        assert app.focused is screen.query_one("#mode")
        screen.query_one("#mode", Select).value = "paper"
        row = screen.query_one("#data-row")
        await wait_for(pilot, lambda: not row.display, "the data source hidden")

        def told() -> int:
            """How many shown lines say 'no credentials found'."""
            return sum(
                1
                for w in screen.query("Static")
                if w.display and "no credentials found" in str(w.render())
            )

        await wait_for(pilot, lambda: told() > 0, "the missing credentials said")
        assert told() == 1
