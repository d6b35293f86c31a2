"""A dialog over a HALTED screen: the desk behind it keeps moving on the terminal.

A halted desk keeps following its session (prices, equity, the iteration and how fresh the
numbers are, in the desk bar). Before, a "Resume trading?" or the help over the red-framed
dashboard froze what showed through it: Textual repainted the framed screen's changed places
one row lower on each update (moved by its border), so the real terminal kept the desk bar as
it was when the dialog opened (seen in tmux: "iter 262 · updated 0s ago" for 8 s while the
session ran on). ``export_screenshot`` renders the screen anew and never showed it; these tests
read what the app writes to the terminal instead.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from rich.console import Console
from tui_helpers import asking, capped_desk, start_capped, wait_for

from tui_trader.tui.screens.help import HelpScreen

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BARS = 3


def _terminal_text(app, written: list[str]) -> None:
    """Record, as plain text, every update the app writes to its terminal (headless, the
    updates are made but not written: the same ones a terminal gets)."""
    real = app._display
    console = Console(width=200, force_terminal=True, color_system="truecolor")

    def spy(screen, renderable) -> None:
        render = getattr(renderable, "render_segments", None)
        if render is not None:
            written.append(ESCAPES.sub("", render(console)))
        real(screen, renderable)

    app._display = spy


@pytest.mark.parametrize("key", ["ctrl+r", "f1"])
async def test_a_dialog_over_the_halted_dashboard_shows_the_numbers_going_stale(
    db_path, paced, key: str
) -> None:
    """The session stops reporting while "Resume trading?" (or the help) is open over the
    halted dashboard: the desk bar behind it says so, "updated 30s ago", as it does without
    the dialog."""
    app = capped_desk(db_path, paced, BARS)
    written: list[str] = []
    _terminal_text(app, written)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_capped(pilot, app, BARS)
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        await pilot.press("escape")
        await pilot.press(key)
        dialog = asking if key == "ctrl+r" else (lambda a: isinstance(a.screen, HelpScreen))
        await wait_for(pilot, lambda: dialog(app), "the dialog")
        await wait_for(pilot, lambda: "updated 0s ago" in "".join(written), "the bar drawn")
        app.handle.stop()  # the session says nothing more
        await wait_for(pilot, lambda: not app.running, "the session ended")
        written.clear()
        paced._now += timedelta(seconds=30)
        await wait_for(pilot, lambda: "updated 30s ago" in "".join(written), "the age shown")
        assert dialog(app)
