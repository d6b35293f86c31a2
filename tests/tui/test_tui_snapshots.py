"""Snapshots of every screen: deterministic (seeded market, frozen clock, fixed session key,
fixed size, notifications cleared, cursor blink off)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Select
from tui_helpers import (
    FROZEN_START,
    PacedFrozenClock,
    asking,
    capped_factory,
    fix_session_keys,
    scalar,
    wait_for,
)

from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.session.runner import SessionRunner
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.ticket import TicketScreen
from tui_trader.tui.screens.working import WorkingOrdersScreen
from tui_trader.tui.setup_form import LIVE_PHRASE

SIZE = (120, 36)
BARS = 30
"""Bars the capped market serves before it waits like a live feed between bars."""
DB = Path("desk.db")
"""Relative to the test's own folder (the setup screen shows the path)."""


@pytest.fixture(autouse=True)
def _fixed_session_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Session keys appear on screen: make them constant."""
    fix_session_keys(monkeypatch)


def _capped_factory(clock):
    """The desk's session, ``BARS`` bars and then waiting."""
    return capped_factory(DB, clock, BARS)


def _dashboard_app():
    """An app whose Enter starts the capped session, paced so it idles between polls."""
    clock = PacedFrozenClock(FROZEN_START)
    return make_app(
        DB, clock=clock, every=0.05, iterations=0, session_factory=_capped_factory(clock)
    )


async def _settle(pilot) -> None:
    """Clear notifications (their timing is not deterministic) and let the tick redraw."""
    pilot.app.clear_notifications()
    await pilot.pause(0.25)
    pilot.app.tick()
    await pilot.pause()


def test_snapshot_setup(snap_compare) -> None:
    """The setup screen with its defaults."""
    assert snap_compare(make_app(DB), terminal_size=SIZE)


def _alpaca_paper_setup(adopt: bool):
    """``run_before`` for the setup screen in Alpaca paper mode (keys found, nothing sent),
    "Adopt positions" ticked or not, the form scrolled to its top."""

    async def run_before(pilot) -> None:
        setup = pilot.app.screen
        setup.query_one("#mode", Select).value = "paper"
        await pilot.pause()
        setup.query_one("#adopt", Checkbox).value = adopt
        await pilot.pause()
        await wait_for(pilot, lambda: setup._checked, "the form's first check")
        setup.query_one("#setup-form").scroll_home(animate=False)
        await pilot.pause()

    return run_before


def test_snapshot_setup_alpaca_paper_80x24(snap_compare, monkeypatch) -> None:
    """Alpaca paper at 80x24: the credentials line, and "Adopt positions" off (local sessions
    do not show it)."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST1234")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    run_before = _alpaca_paper_setup(adopt=False)
    assert snap_compare(make_app(DB), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_setup_alpaca_paper_adopting(snap_compare, monkeypatch) -> None:
    """Alpaca paper with "Adopt positions" ticked: the summary beside Start says so."""
    monkeypatch.setenv("APCA_API_KEY_ID", "PKTEST1234")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "not-shown")
    run_before = _alpaca_paper_setup(adopt=True)
    assert snap_compare(make_app(DB), terminal_size=SIZE, run_before=run_before)


def test_snapshot_live_warning_empty(snap_compare) -> None:
    """The live warning as it opens on a store with no paper record: refused, the rule and
    the skip said, no phrase field; Cancel focused, confirm disabled."""

    async def run_before(pilot) -> None:
        pilot.app.screen.query_one("#mode", Select).value = "live"
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(make_app(DB, live_enabled=True), terminal_size=SIZE, run_before=run_before)


async def _live_phrase_typed(pilot) -> None:
    """Choose Alpaca live on the setup form and type the exact phrase on its warning."""
    pilot.app.screen.query_one("#mode", Select).value = "live"
    await pilot.pause()
    await pilot.pause()
    phrase = pilot.app.screen.query_one("#live-phrase", Input)
    phrase.cursor_blink = False
    phrase.focus()
    await pilot.press(*LIVE_PHRASE)
    await pilot.pause()


def test_snapshot_live_warning_phrase_typed(snap_compare) -> None:
    """The live warning with the exact phrase typed (the desk started with --skip-readiness,
    said on the warning): confirm enabled."""

    app = make_app(DB, live_enabled=True, skip_readiness=True)  # past the (empty) paper record
    assert snap_compare(app, terminal_size=SIZE, run_before=_live_phrase_typed)


def test_snapshot_live_warning_80x24_suspend_on_halt(snap_compare, tmp_path: Path) -> None:
    """The tallest live warning at 80x24 (the settings file's suspend-on-halt and
    adopt-positions, the gate skipped, the phrase typed): what a halt does to the account on a
    row of its own, the whole dialog between the desk bar and the footer."""
    from tui_trader.cli.config_cmd import setup_defaults

    path = tmp_path / "desk.toml"
    path.write_text("suspend-on-halt = true\nadopt-positions = true\n")

    app = make_app(DB, live_enabled=True, skip_readiness=True, setup_defaults=setup_defaults(path))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_live_phrase_typed)


def test_snapshot_dashboard_mid_session(snap_compare) -> None:
    """The dashboard after 30 bars of a seeded session, still running."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "bars")
        await _settle(pilot)

    assert snap_compare(_dashboard_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_dashboard_halted(snap_compare) -> None:
    """The same session after ctrl+k (positions kept): HALTED everywhere."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "bars")
        await pilot.press("ctrl+k")
        # One order of events on every run: the halt lands while the flatten question is up,
        # then the question is answered "keep positions".
        await wait_for(pilot, lambda: asking(app), "the question")
        kills = "SELECT COUNT(*) FROM live_risk_events WHERE event_type = 'manual_kill'"
        await wait_for(pilot, lambda: scalar(DB, kills) == 1, "manual_kill")
        await wait_for(pilot, lambda: app.desk.latest.state == "halted", "the halted report")
        # the kill switch cancels open orders after the halted report: wait for every one
        opened = "SELECT COUNT(*) FROM live_orders WHERE status IN ('new', 'accepted')"
        await wait_for(pilot, lambda: scalar(DB, opened) == 0, "the open orders canceled")
        canceled = "SELECT COUNT(*) FROM live_orders WHERE status = 'canceled'"

        def shown() -> int:
            """Cancellations the desk has received (what the orders log will show)."""
            return sum(getattr(a, "status", None) == "canceled" for a in app.desk.activity)

        await wait_for(pilot, lambda: shown() == scalar(DB, canceled), "the cancellations shown")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await _settle(pilot)

    assert snap_compare(_dashboard_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_history_with_data(snap_compare) -> None:
    """The history browser on a finished 80-bar session."""
    clock = PacedFrozenClock(FROZEN_START)
    SessionRunner(build_local_session(LocalSettings(db=DB), clock), 80).run()

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.press("f3")
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", 0) >= 1, "history rows")
        await _settle(pilot)

    assert snap_compare(make_app(DB, clock=clock), terminal_size=SIZE, run_before=run_before)


def _mid_session():
    """``run_before`` for a dashboard after ``BARS`` bars."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "bars")
        await _settle(pilot)

    return run_before


def test_snapshot_dashboard_80x24(snap_compare) -> None:
    """An 80x24 terminal: equity, the three gauges, positions, orders & fills, risk events and
    the kill-switch key, in compact panels."""
    assert snap_compare(_dashboard_app(), terminal_size=(80, 24), run_before=_mid_session())


def test_snapshot_dashboard_200x50(snap_compare) -> None:
    """A 200x50 terminal: every position column and the two charts side by side."""
    assert snap_compare(_dashboard_app(), terminal_size=(200, 50), run_before=_mid_session())


async def _with_manual_order(pilot) -> None:
    """Mid-session, then a 5-share SPY market order from the ticket (it stays working: the
    capped market serves no more bars)."""
    app = pilot.app
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "bars")
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
    await pilot.press("5", "enter")
    await wait_for(
        pilot,
        lambda: any(k.endswith("-m1") for k in app.desk.working),
        "the manual order working",
    )


def test_snapshot_order_ticket(snap_compare) -> None:
    """The order ticket at 80x24 with a quantity typed."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.latest and app.desk.latest.iteration == BARS, "bars")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TicketScreen), "the ticket")
        app.screen.query_one("#ticket-amount", Input).cursor_blink = False
        await pilot.press("5")
        await _settle(pilot)

    assert snap_compare(_dashboard_app(), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_working_orders(snap_compare) -> None:
    """The working-orders panel at 120x36: the strategies' orders and the manual one."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await _with_manual_order(pilot)
        await _settle(pilot)  # the "order requested" toast goes before the panel opens
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, WorkingOrdersScreen), "the panel")
        await _settle(pilot)

    assert snap_compare(_dashboard_app(), terminal_size=SIZE, run_before=run_before)
