"""Escape leaves History, Report and Fleet, back to where the trader came from. At 80x24 their
footers have no room left for f2, and Escape did nothing: a keyboard-only trader on History had
no key in sight to get back."""

from __future__ import annotations

from textual.widgets import Select
from tui_helpers import wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.history import HistoryScreen
from tui_trader.tui.screens.setup import SetupScreen


async def _press_until(pilot, app, key: str, screen_type: type, what: str) -> None:
    """Press ``key`` and wait for ``screen_type`` to be the screen."""
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type), what)


async def test_escape_goes_back_to_setup_or_the_dashboard(db_path, paced) -> None:
    """A session runs on the dashboard meanwhile, a cycle every 0.05 s: on the frozen clock,
    which never waits, its cycles ran back to back and held the interpreter against the
    screens the test goes through (~10 s instead of ~5)."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen), "setup")
        setup = app.screen
        await _press_until(pilot, app, "f3", HistoryScreen, "history")
        history = app.screen
        await wait_for(pilot, lambda: history.loaded == history.seq, "the first page")
        await _press_until(pilot, app, "escape", SetupScreen, "back to setup")
        assert app.screen is setup
        await wait_for(pilot, lambda: setup._checked, "the form's first check")
        await _press_until(pilot, app, "enter", DashboardScreen, "the session's dashboard")
        await wait_for(pilot, lambda: app.running, "the session running")
        for key, mode in (("f3", "history"), ("f9", "report"), ("f12", "fleet")):
            await pilot.press(key)
            await wait_for(pilot, lambda mode=mode: app.current_mode == mode, mode)
            await _press_until(pilot, app, "escape", DashboardScreen, f"back from {mode}")
        # an open list's Escape closes the list only
        await _press_until(pilot, app, "f3", HistoryScreen, "history again")
        side = history.query_one("#f-side", Select)
        side.focus()
        await wait_for(pilot, lambda: side.has_focus, "the side filter")
        await pilot.press("enter")
        await wait_for(pilot, lambda: side.expanded, "the open list")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not side.expanded, "the list closed")
        assert app.screen is history
        await _press_until(pilot, app, "escape", DashboardScreen, "the dashboard")
        app.exit()
