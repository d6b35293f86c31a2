"""The setup screen opens at its top with Start in sight, at the smallest supported size.

At 80x24 the form is taller than the screen. Start was its last row and focused on arrival,
so the form opened scrolled to its bottom: Mode, Enable live trading and Symbols were out of
sight, and a newcomer saw the risk fields first. Start and the plan's summary now sit below the
scrolled form.
"""

from __future__ import annotations

from textual.widgets import Button, Select
from tui_helpers import wait_for

from tui_trader.tui.app import make_app


def _in_sight(app, widget) -> bool:
    """The widget's whole region is on the screen (not scrolled away)."""
    region = widget.region
    screen = app.screen.region
    return bool(region.area) and screen.contains_region(region)


async def test_at_80x24_the_form_opens_at_mode_and_start_is_in_sight(tmp_path) -> None:
    app = make_app(tmp_path / "desk.db")
    async with app.run_test(size=(80, 24)) as pilot:
        setup = app.screen
        await wait_for(pilot, lambda: setup._checked, "the form's first check")
        start = setup.query_one("#start", Button)
        assert app.focused is start, "Start is focused on arrival (Enter starts)"
        assert _in_sight(app, setup.query_one("#mode", Select))
        assert _in_sight(app, start)
        summary = setup.query_one("#form-summary")
        assert "Enter starts the session" in str(summary.render())
        assert _in_sight(app, summary)
        app.exit()
