"""Cancelling the live warning puts the whole form back as the local session had it.

Choosing "Alpaca live" swaps the untouched defaults for an Alpaca session's (1m bars over 5d,
an empty cash field: the account's whole equity). Before, Cancel put the mode back to local
but left those: a trader who cancelled found the local form on 1m/5d and an empty starting cash
("not a number: ''", "1 field(s) need attention"), and Enter no longer started anything.
"""

from __future__ import annotations

from textual.widgets import Input, Select, Static
from tui_helpers import wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.setup_form import LOCAL_CASH


async def test_cancelling_the_live_warning_gives_the_local_defaults_back(db_path) -> None:
    app = make_app(db_path, live_enabled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        setup = app.screen
        setup.query_one("#mode", Select).value = "live"
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        assert setup.query_one("#interval", Input).value == "1m"  # Alpaca's, while it asks
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is setup, "the setup screen")
        await wait_for(pilot, lambda: setup.query_one("#mode", Select).value == "local", "local")
        await pilot.pause()
        assert setup.query_one("#interval", Input).value == "1d"
        assert setup.query_one("#period", Input).value == "60d"
        assert setup.query_one("#start_cash", Input).value == LOCAL_CASH
        summary = setup.query_one("#form-summary", Static)
        await wait_for(pilot, lambda: "ready" in str(summary.render()), "a startable form")
