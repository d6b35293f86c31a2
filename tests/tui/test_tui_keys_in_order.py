"""Keys that reach the desk in one read are applied in the order typed, in the text fields.

Found at the desk (desk30, tmux): Textual's ``Input`` ran Backspace, Delete, the arrows, Home
and End as bindings after the characters typed with them. The order ticket has its own test
(``test_tui_ticket_screen.py``); here the setup form's limits, the history filters and the
live warning's typed phrase.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Button, Input, Select
from tui_helpers import wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen


async def _typed_at_once(pilot, field: Input, keys: tuple[str, ...], expected: str) -> None:
    """Post ``keys`` as the driver posts one read's keys (no pause between), then wait for
    ``expected`` in ``field``."""
    for key in keys:
        pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
    await wait_for(pilot, lambda: field.value == expected, f"{field.id} reading {expected!r}")


async def test_a_limit_on_the_setup_form(db_path) -> None:
    """Max drawdown 5.0, End, Backspace and 5 at once: 5.5 (it read 5.0)."""
    app = make_app(db_path)
    async with app.run_test(size=(120, 36)) as pilot:
        field = app.screen.query_one("#max_drawdown", Input)
        field.focus()
        await pilot.pause()
        await _typed_at_once(pilot, field, ("end", "backspace", "5"), "5.5")


async def test_a_history_filter(db_path) -> None:
    """The symbol filter: SPX, Backspace and Y at once: SPY."""
    app = make_app(db_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f3")
        await wait_for(pilot, lambda: bool(app.screen.query("#f-symbol")), "the history filters")
        field = app.screen.query_one("#f-symbol", Input)
        field.focus()
        await pilot.press("S", "P", "X")
        await _typed_at_once(pilot, field, ("backspace", "Y"), "SPY")


async def test_the_live_warnings_phrase(db_path) -> None:
    """The phrase typed with a typo, then Backspace and the right letter at once: the phrase is
    whole and the confirm button enabled (it read YES I UNDERSTANX and stayed disabled)."""
    app = make_app(db_path, live_enabled=True, skip_readiness=True)
    async with app.run_test(size=(120, 36)) as pilot:
        app.screen.query_one("#mode", Select).value = "live"
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        warning = app.screen
        field = warning.query_one("#live-phrase", Input)

        def focused() -> bool:  # asked again: the warning's own first focus may land after
            if not field.has_focus:
                field.focus()
            return field.has_focus

        await wait_for(pilot, focused, "the focus on the phrase")
        await pilot.press(*"YES I UNDERSTANX")
        await _typed_at_once(pilot, field, ("backspace", "D"), "YES I UNDERSTAND")
        confirm = warning.query_one("#live-confirm", Button)
        await wait_for(pilot, lambda: not confirm.disabled, "the confirm button enabled")
