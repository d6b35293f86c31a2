"""The Report screen: f9 and the palette open it on the desk's session, and a snapshot of it
(fixed size, seeded market, frozen clock, fixed session key)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widgets import Static
from tui_helpers import FROZEN_START, PacedFrozenClock, fix_session_keys, wait_for

from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.session.runner import SessionRunner
from tui_trader.tui.app import make_app
from tui_trader.tui.screens.report import ReportScreen

SIZE = (120, 36)
DB = Path("desk.db")
"""Relative to the test's own folder."""


@pytest.fixture(autouse=True)
def _fixed_session_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Session keys appear on screen: make them constant."""
    fix_session_keys(monkeypatch)


def _finished_session(clock, iterations: int = 80) -> None:
    """A seeded local session, run to its end."""
    SessionRunner(build_local_session(LocalSettings(db=DB), clock), iterations).run()


def _report_text(app) -> str:
    """What the report area shows, as plain text."""
    content = app.screen.query_one("#report-content", Static)
    region = Region(0, 0, content.size.width, content.size.height)
    return "\n".join(strip.text for strip in content.render_lines(region))


async def test_f9_and_the_palette_open_the_report_of_the_desk_session(db_path) -> None:
    """The report opens on the session the desk ran, with its figures; the palette has it."""
    clock = PacedFrozenClock(FROZEN_START)
    app = make_app(db_path, clock=clock, seed=7, iterations=40, every=0.0)
    async with app.run_test(size=SIZE) as pilot:
        assert "Report" in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.ended != "", "the session to finish", 1500)
        key = app.desk.info.key
        await pilot.press("f9")
        assert isinstance(app.screen, ReportScreen)
        await wait_for(pilot, lambda: app.screen.loaded >= 1, "the report", 1500)
        assert app.screen.shown == key
        await wait_for(pilot, lambda: "Sharpe" in _report_text(app), "the figures laid out", 500)
        text = _report_text(app)
        assert f"Report: session {key}" in text
        for label in ("Return", "Sharpe", "Max drawdown", "Win rate", "By symbol", "Equity"):
            assert label in text, label


def test_snapshot_report(snap_compare) -> None:
    """The Report screen on a finished 80-bar session."""
    clock = PacedFrozenClock(FROZEN_START)
    _finished_session(clock)

    async def run_before(pilot) -> None:
        app = pilot.app
        await pilot.press("f9")
        await wait_for(pilot, lambda: getattr(app.screen, "loaded", 0) >= 1, "the report")
        app.clear_notifications()
        await pilot.pause(0.25)
        app.tick()
        await pilot.pause()

    assert snap_compare(make_app(DB, clock=clock), terminal_size=SIZE, run_before=run_before)
