"""The order ticket as a trader reads it at 80x24: the chosen time in force whole, and an error
line that follows the ticket as it is mended.

Found at the desk (day13): after Review refused "ab" shares, the amount fixed to 10 still sat
above "amount: a number in ASCII digits ..." until the next Review; and "Good till cancelled"
showed as "Good till" once chosen.
"""

from __future__ import annotations

import io

from rich.console import Console
from textual import events
from textual.app import App
from textual.widgets import Input, Select, Static
from tui_helpers import wait_for

from tui_trader.tui.screens.ticket import TicketScreen

SIZE = (80, 24)


class _TicketApp(App[None]):
    """Only the ticket, over an empty screen: what it shows does not need a session."""

    CSS_PATH = "../../tui_trader/tui/screens.tcss"

    def on_mount(self) -> None:
        """Open the ticket on a two-symbol LOCAL session."""
        self.push_screen(TicketScreen(("SPY", "QQQ"), "local"))


def _lines(app: App) -> list[str]:
    """The text the terminal shows now (the ticket over its backdrop)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False).splitlines()


def _error(app: App) -> str:
    return str(app.screen.query_one("#ticket-error", Static).render())


async def test_the_error_line_goes_once_its_field_is_mended() -> None:
    app = _TicketApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        await pilot.press("a", "b", "enter")
        await wait_for(pilot, lambda: _error(app).startswith("amount:"), "the refusal")
        await pilot.press("backspace")
        await pilot.pause()
        assert "ASCII digits" in _error(app)  # "a": still wrong, still said
        await pilot.press("backspace", "1", "0")
        await pilot.pause()
        assert _error(app) == ""  # "10" is an amount: nothing is wrong with it any more
        assert isinstance(app.screen, TicketScreen)  # mending does not send


async def test_a_limit_refusal_goes_when_the_type_no_longer_needs_a_limit() -> None:
    app = _TicketApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        app.screen.query_one("#ticket-type", Select).value = "limit"
        await pilot.press("1", "0", "enter")
        await wait_for(pilot, lambda: _error(app).startswith("limit:"), "the refusal")
        app.screen.query_one("#ticket-type", Select).value = "market"
        await pilot.pause()
        assert _error(app) == ""


async def test_good_till_cancelled_reads_whole_once_chosen() -> None:
    app = _TicketApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        app.screen.query_one("#ticket-tif", Select).value = "gtc"
        await pilot.pause()
        row = next(line for line in _lines(app) if "Time in force" in line)
        assert "Good till cancelled" in row


async def test_keys_that_arrive_together_are_applied_in_the_order_typed() -> None:
    """Backspace then 9, typed quickly enough to reach the desk in one read (tmux showed it at
    200x50: the amount stayed 43): the amount reads 49, and Left then 1 puts the 1 before it."""
    app = _TicketApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        amount = app.screen.query_one("#ticket-amount", Input)
        await pilot.press("4", "3")
        for batch, expected in (
            (("backspace", "9"), "49"),
            (("left", "1"), "419"),
            (("home", "backspace", "delete", "7"), "719"),
        ):
            for key in batch:  # as the driver posts the keys of one read: no pause between
                app.post_message(events.Key(key, key if len(key) == 1 else None))
            await wait_for(pilot, lambda e=expected: amount.value == e, f"the amount {expected}")
