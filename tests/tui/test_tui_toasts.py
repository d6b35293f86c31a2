"""Notifications over a dialog never cover its buttons, and the newest one stays in sight.

Found at the desk (desk30, tmux at 80x24): Textual stacks notifications from the bottom right,
where the dialogs keep their buttons. One two-line notification covered the ticket's "Review
order"; two covered "Resume trading" (and the answer of every short question: "Stop session",
"Flatten the desk's positions"). The trader could not see, or click, the button they came for
until the notifications timed out. Over a dialog they now pile up in the top quarter of the
screen; on the desk's own screens they stay at the bottom right, one row a line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, Select
from textual.widgets._toast import Toast
from tui_helpers import (
    FROZEN_START,
    PacedFrozenClock,
    asking,
    capped_desk,
    capped_factory,
    fix_session_keys,
    start_capped,
    wait_for,
)

from tui_trader.tui.app import make_app
from tui_trader.tui.screens.live_warning import LiveWarningScreen
from tui_trader.tui.screens.ticket import TicketScreen
from tui_trader.tui.setup_form import LIVE_PHRASE

BARS = 3
DB = Path("desk.db")
"""Relative to the test's own folder (the snapshot's session)."""
SIZES = [(80, 24), (120, 36), (200, 50)]
PILES = (1, 2, 5)
"""How many notifications at once: five do not fit in the room they get, at 80x24."""
NOTICES = [
    "New trading day: orders today and the daily loss start again from zero.",
    "Cancel requested for 5eed5eed-m1.",
    "KILL SWITCH: HALT requested, the session halts at its next step; open orders are "
    "cancelled by the broker as it answers.",
]
"""Notifications as the desk writes them: two lines, one, three at 80 columns."""


def _hidden_buttons(screen) -> list[str]:
    """The buttons some cell of which shows something else (a notification over it)."""
    hidden = []
    for button in screen.query(Button):
        region = button.region
        cells = [
            (x, y) for y in range(region.y, region.bottom) for x in range(region.x, region.right)
        ]
        for x, y in cells:
            shown, _ = screen.get_widget_at(x, y)
            if button not in shown.ancestors_with_self:
                hidden.append(str(button.label))
                break
    return hidden


def _newest_seen(screen, words: str) -> bool:
    """Whether the notification saying ``words`` is seen whole: each of its rows on the
    screen, and what shows there."""
    for toast in screen.query(Toast):
        if toast._notification.message == words:
            region = toast.region
            if not region or region.y < 0 or region.bottom > screen.size.height:
                return False
            rows = range(region.y, region.bottom)
            return all(screen.get_widget_at(region.x + 2, y)[0] is toast for y in rows)
    return False


async def _notify_and_look(pilot, how_many: int) -> list[str]:
    """Raise ``how_many`` notifications on the open screen; once they are drawn, the buttons
    they hide. None hidden: wait until the newest is seen whole (it never is: the test fails
    on that wait)."""
    app = pilot.app
    words = ""
    for i in range(how_many):
        words = NOTICES[i % len(NOTICES)] + f" ({i + 1})"
        app.notify(words, severity="warning", timeout=600)

    def drawn() -> bool:
        return any(t._notification.message == words and t.region for t in app.screen.query(Toast))

    await wait_for(pilot, drawn, "the newest notification drawn")
    hidden = _hidden_buttons(app.screen)
    if not hidden:
        seen = lambda: _newest_seen(app.screen, words)  # noqa: E731
        await wait_for(pilot, seen, "the newest notification seen whole")
    return hidden


async def _piles(pilot) -> dict[int, list[str]]:
    """One, two, then five notifications on the open dialog: the buttons each pile hides."""
    hidden = {}
    for how_many in PILES:
        pilot.app.clear_notifications()
        hidden[how_many] = await _notify_and_look(pilot, how_many)
    pilot.app.clear_notifications()
    return hidden


NONE_HIDDEN = {how_many: [] for how_many in PILES}


@pytest.mark.parametrize("size", SIZES)
async def test_the_order_ticket_keeps_its_buttons_in_sight(db_path, paced, size) -> None:
    """The ticket (its buttons its last rows, at 80x24 rows 18-20)."""
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=size, notifications=True) as pilot:
        await start_capped(pilot, app, BARS)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        assert await _piles(pilot) == NONE_HIDDEN


@pytest.mark.parametrize("size", SIZES)
async def test_the_questions_keep_their_answers_in_sight(db_path, paced, size) -> None:
    """ctrl+s, ctrl+k's flatten question and ctrl+r's: short dialogs, centred."""
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=size, notifications=True) as pilot:
        await start_capped(pilot, app, BARS)
        for key in ("ctrl+s", "ctrl+k", "ctrl+r"):
            await pilot.press(key)
            await wait_for(pilot, lambda: asking(app), f"the question of {key}")
            assert (key, await _piles(pilot)) == (key, NONE_HIDDEN)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not asking(app), f"the question of {key} answered")


async def test_the_live_warning_keeps_its_buttons_in_sight() -> None:
    """The live warning at 80x24 with the phrase typed: 22 rows, its buttons near the bottom."""
    app = make_app("desk.db", live_enabled=True, skip_readiness=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.screen.query_one("#mode", Select).value = "live"
        await wait_for(pilot, lambda: isinstance(app.screen, LiveWarningScreen), "the warning")
        await wait_for(pilot, lambda: bool(app.screen.query("#live-phrase")), "the phrase field")
        app.screen.query_one("#live-phrase", Input).value = LIVE_PHRASE
        await pilot.pause()
        assert not app.screen.query_one("#live-confirm", Button).disabled
        assert await _piles(pilot) == NONE_HIDDEN


@pytest.mark.parametrize("size", SIZES)
async def test_the_dashboard_shows_the_newest_notification_whole(db_path, paced, size) -> None:
    """On the desk's own screen the pile stays at the bottom right: the newest notification
    is seen to its last line (Textual measured the pile a column wider than it drew it, and a
    toast that wrapped once more lost its last line)."""
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=size, notifications=True) as pilot:
        await start_capped(pilot, app, BARS)
        assert await _piles(pilot) == NONE_HIDDEN


def test_snapshot_ticket_under_a_notification_80x24(snap_compare, monkeypatch) -> None:
    """The order ticket at 80x24 as a two-line notification arrives: it sits at the top right,
    over the ticket's title; Cancel and Review order stay whole."""
    fix_session_keys(monkeypatch)
    clock = PacedFrozenClock(FROZEN_START)
    app = make_app(
        DB, clock=clock, every=0.05, iterations=0, session_factory=capped_factory(DB, clock, BARS)
    )

    async def run_before(pilot) -> None:
        await start_capped(pilot, app, BARS)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        app.screen.query_one("#ticket-amount", Input).cursor_blink = False
        app.clear_notifications()
        await _notify_and_look(pilot, 1)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
