"""The footer at 80x24: the kill switch's key comes first on every screen, then that screen's keys.

Read from what the terminal would show (the composited screen, dialogs and their backdrops
included), not from the footer's children: a key that is composed but covered or clipped is
no help to a trader.
"""

from __future__ import annotations

import io

from rich.cells import cell_len
from rich.console import Console
from tui_helpers import asking, capped_factory, wait_for

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.fleet import FleetScreen
from tui_trader.tui.screens.help import HelpScreen
from tui_trader.tui.screens.history import HistoryScreen
from tui_trader.tui.screens.report import ReportScreen
from tui_trader.tui.screens.ticket import TicketScreen
from tui_trader.tui.screens.working import WorkingOrdersScreen

SIZE = (80, 24)
FRAME = "┃│ "
"""The HALTED frame's side (and a margin) around the footer line."""


def terminal_lines(app) -> list[str]:
    """The text the terminal shows now: the active screen over its backdrop (as Textual's own
    screenshot composes it)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False).splitlines()


def footer_line(app) -> str:
    """The bottom line with keys on it (inside the HALTED frame, if any)."""
    for line in reversed(terminal_lines(app)):
        text = line.strip(FRAME)
        if text and not set(text) <= set("━┗┛"):
            return text.rstrip()
    return ""


def _help_lines_fit(app) -> None:
    """No line of the help is wider than its dialog (a description cut at the edge)."""
    body = app.screen.query_one("#help-body")
    text = app.screen.query_one("#help-text")
    widest = max(cell_len(line) for line in text.render().plain.splitlines())
    room = body.scrollable_content_region.intersection(app.screen.region).width
    assert widest <= room, f"a help line is {widest} columns, the dialog shows {room}"


async def _footer_leads_with_kill(app, pilot, where: str, *then: str) -> None:
    """Wait until the terminal's footer starts with ``^k KILL SWITCH``, shows ``then`` and ends
    with the palette key whole (a key cut beneath it left a stray letter: "^p palettee")."""

    def shown() -> bool:
        line = footer_line(app)
        whole = "^p" not in line or line.endswith("^p palette")  # no cut key beneath it
        return line.startswith("^k KILL SWITCH") and whole and all(k in line for k in then)

    try:
        await wait_for(pilot, shown, f"^k first on {where}")
    except AssertionError:
        raise AssertionError(f"{where}: footer is {footer_line(app)!r}") from None


async def test_the_kill_switch_leads_the_footer_on_every_screen_at_80x24(db_path, paced) -> None:
    """Setup, dashboard, order ticket, working orders, history, report, fleet, help, the kill
    switch's own question and the ticket over a HALTED desk: ^k is the first key a trader sees
    at 80x24, followed by the keys of the screen in front of them; the help is not cut."""
    factory = capped_factory(db_path, paced, 12)
    app = make_app(db_path, clock=paced, every=0.05, iterations=0, session_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        await _footer_leads_with_kill(app, pilot, "setup")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await wait_for(pilot, lambda: app.desk.latest is not None, "a bar")
        await _footer_leads_with_kill(app, pilot, "the dashboard", "t Order", "w Working")
        for key, screen, where, own in (
            ("t", TicketScreen, "the order ticket", ()),
            ("w", WorkingOrdersScreen, "working orders", ("x Cancel",)),
            ("f1", HelpScreen, "help", ()),
        ):
            await pilot.press(key)
            await wait_for(pilot, lambda s=screen: isinstance(app.screen, s), where)
            await _footer_leads_with_kill(app, pilot, where, *own)
            if screen is HelpScreen:
                _help_lines_fit(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "back")
        for key, screen, where, own in (
            ("f3", HistoryScreen, "history", ("f5 Orders",)),
            ("f9", ReportScreen, "the report", ("^l Refresh",)),
            ("f12", FleetScreen, "the fleet", ("h Halt all",)),
        ):
            await pilot.press(key)
            await wait_for(pilot, lambda s=screen: isinstance(app.screen, s), where)
            await _footer_leads_with_kill(app, pilot, where, *own)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the question")
        await _footer_leads_with_kill(app, pilot, "the flatten question (HALTED)", "^r Resume")
        await pilot.press("escape")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        await _footer_leads_with_kill(app, pilot, "the order ticket (HALTED)")
        app.handle.stop()
