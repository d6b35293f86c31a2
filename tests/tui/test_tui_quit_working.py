"""Quitting with orders still working says what becomes of them.

The quit question only asked to stop the session; a trader with a working order was not told
that a local session's orders are cancelled as it ends or that Alpaca's stay live at the
broker, nor that ctrl+k cancels them first.
"""

from __future__ import annotations

from textual.widgets import Static
from tui_helpers import asking, capped_desk, start_capped, wait_for

from tui_trader.tui.screens.ticket import TicketScreen

BARS = 12


def _question(app) -> str:
    """The open dialog's text."""
    return " ".join(str(s.render()) for s in app.screen.query(Static))


async def test_quit_with_a_working_order_says_it_ends_unfilled(db_path, paced) -> None:
    """A LOCAL market order waits for the next bar; quit asks, and names the working order."""
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=(120, 36)) as pilot:
        await start_capped(pilot, app, BARS)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: asking(app), "the quit question")
        assert "still working" not in _question(app)
        await pilot.press("escape")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        await pilot.press("5", "enter")
        await wait_for(pilot, lambda: any(k.endswith("-m1") for k in app.desk.working), "working")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: asking(app), "the quit question")
        text = _question(app)
        fate = "1 order(s) still working are cancelled unfilled when this local session ends"
        assert fate in text
        assert "ctrl+k first halts trading and cancels them" in text
        await pilot.press("escape")
        app.handle.stop()
