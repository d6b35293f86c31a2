"""Pilot tests of a local session driven from the app: start, kill, resume, fail, quit."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from textual.color import Color
from textual.widgets import Button, DataTable, Input, RichLog, Static
from tui_helpers import asking, scalar, wait_for

from tui_trader.risk.gate import DRAWDOWN, MANUAL_KILL, RESET
from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.store.db import open_database
from tui_trader.store.models import AccountSnapshot, LiveOrder, SessionRow
from tui_trader.tui.app import make_app
from tui_trader.tui.messages import SessionEnded
from tui_trader.tui.screens.dashboard import DashboardScreen
from tui_trader.tui.screens.help import HelpScreen
from tui_trader.tui.screens.history import HistoryScreen
from tui_trader.tui.screens.setup import SetupScreen
from tui_trader.tui.widgets.deskbar import DeskBar

SIZE = (120, 36)


def _events(db: Path, kind: str) -> int:
    """Risk events of one type (plain sqlite3: the models' proxy belongs to the app)."""
    return scalar(db, "SELECT COUNT(*) FROM live_risk_events WHERE event_type = ?", kind)


def _orders(db: Path) -> int:
    """Orders in the database."""
    return scalar(db, "SELECT COUNT(*) FROM live_orders")


async def test_enter_on_setup_runs_a_local_session_that_writes_orders(db_path, frozen) -> None:
    """The defaults plus Enter: a session runs to its end and its orders are in the database."""
    app = make_app(db_path, clock=frozen, iterations=40, every=0)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, SetupScreen)
        assert not app.screen.query_one("#start", Button).disabled
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.ended == "completed", "the session to complete")
        assert isinstance(app.screen, DashboardScreen)
        assert app.desk.latest is not None and app.desk.latest.iteration == 40
        bar = app.screen.query_one("DeskBar")
        await wait_for(pilot, lambda: "iter 40" in str(bar.render()), "the bar to show it")
        assert "ENDED: completed" in str(bar.render())
    assert _orders(db_path) > 0
    open_database(db_path)
    assert SessionRow.get().status == "completed"


async def test_setup_shows_the_reason_and_disables_start(db_path) -> None:
    """A bad limit is explained beside its field and Start cannot be pressed."""
    app = make_app(db_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#max_drawdown", Input).value = "150"
        error = screen.query_one("#max_drawdown-error", Static)
        await wait_for(pilot, lambda: "percentage" in str(error.render()), "the field's reason")
        assert screen.query_one("#start", Button).disabled
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen) and not app.running


async def _start_paced(app, pilot) -> None:
    """Start a paced session from setup and wait for its first report."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.desk.latest is not None, "the first report")


@pytest.mark.parametrize("where", ["dashboard", "history", "help"])
async def test_ctrl_k_halts_from_every_screen(db_path, paced, where) -> None:
    """ctrl+k halts within an iteration wherever the user is, and writes manual_kill."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await _start_paced(app, pilot)
        if where == "history":
            await pilot.press("f3")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        elif where == "help":
            await pilot.press("f1")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await pilot.press("ctrl+k")
        assert app.halted and app.has_class("-halted")
        await wait_for(pilot, lambda: _events(db_path, MANUAL_KILL) == 1, "manual_kill row")
        # the question comes after the next refresh, which may follow the worker's row
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.desk.latest.state == "halted", "a halted report")
        before = _orders(db_path)
        seen = app.desk.latest.iteration
        await wait_for(pilot, lambda: app.desk.latest.iteration >= seen + 3, "more iterations")
        assert _orders(db_path) == before
        if where == "help":
            await pilot.press("escape")
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        banner = app.screen.query_one("#halt-banner", Static)
        await wait_for(pilot, lambda: banner.display, "the halt banner")
        assert "TRADING HALTED" in str(banner.render())
        app.handle.stop()


async def test_logs_show_the_kills_cancel_when_the_question_closes(db_path, paced) -> None:
    """The halt lands while the flatten question covers the desk; once answered, both logs show
    their newest line (the cancelled order and the manual_kill), not a stale scroll position."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await _start_paced(app, pilot)
        await wait_for(pilot, lambda: len(app.desk.activity) > 12, "a screenful of orders")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the question")
        await wait_for(pilot, lambda: app.desk.latest.state == "halted", "a halted report")
        await pilot.pause(0.2)  # the desk redraws under the dialog
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await pilot.pause(0.1)
        for name in ("#orders-log", "#events-log"):
            log = app.screen.query_one(name, RichLog)
            assert log.scroll_y == log.max_scroll_y, name
        assert app.screen.query_one("#orders-log", RichLog).max_scroll_y > 0
        app.handle.stop()


async def test_fifty_symbols_leave_the_logs_on_screen(db_path, frozen) -> None:
    """With many symbols the regime line counts labels instead of naming fifty symbols, so the
    orders and risk-event logs keep their room and the positions' last column fits."""
    symbols = tuple(f"S{i:02d}" for i in range(50))
    settings = LocalSettings(db=db_path, symbols=symbols, period="60d")
    app = make_app(
        db_path,
        clock=frozen,
        iterations=5,
        session_factory=lambda: build_local_session(settings, frozen),
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.ended, "the session's end", tries=1500)
        await pilot.pause(0.2)
        screen = app.screen
        assert set(app.desk.latest.regimes) == set(symbols)
        learning = str(screen.query_one("#learning").render())
        assert "bull/calm" in learning or "sideways/calm" in learning
        assert "S00" not in learning  # counted, not listed
        for name in ("#orders-log", "#events-log"):
            assert screen.query_one(name).region.height >= 3, name
        positions = screen.query_one("#positions", DataTable)
        assert positions.max_scroll_x == 0  # the Wt % column is not cut by the scrollbar


async def test_ctrl_k_without_a_session_says_so(db_path) -> None:
    """On setup, with nothing running, the kill switch explains there is nothing to halt."""
    app = make_app(db_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert not app.halted
        assert any("nothing to halt" in n.message for n in app._notifications)


async def test_kill_then_flatten_closes_positions(db_path, paced) -> None:
    """Answering yes to the flatten question sends closing orders after the halt.

    The bar feed pauses while the test halts and answers, so that the strategies' own exits
    (a halted session still lets orders that shrink exposure pass) cannot close the positions
    first on a slow machine."""
    feed = threading.Event()
    feed.set()
    starved = {"n": 0}

    def factory():
        session = build_local_session(LocalSettings(db=db_path), paced)
        real = session.market.next_bars

        def next_bars():
            if feed.is_set():
                return real()
            starved["n"] += 1
            return {}

        session.market.next_bars = next_bars
        return session

    app = make_app(db_path, clock=paced, iterations=0, every=0.02, session_factory=factory)
    async with app.run_test(size=SIZE) as pilot:
        await _start_paced(app, pilot)
        await wait_for(pilot, lambda: bool(app.desk.latest.positions), "a position", tries=600)
        feed.clear()
        await wait_for(pilot, lambda: starved["n"] >= 2, "a cycle without bars")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: not asking(app), "the question to close")
        feed.set()
        await wait_for(
            pilot, lambda: not app.desk.latest.positions and app.desk.halted, "flat book"
        )
        app.handle.stop()
    open_database(db_path)
    assert LiveOrder.select().where(LiveOrder.rationale.startswith("flatten")).count() > 0


async def test_resume_after_kill_needs_confirmation(db_path, paced) -> None:
    """ctrl+r asks first; yes lifts a manual halt and records risk_reset."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await _start_paced(app, pilot)
        await pilot.press("ctrl+k")
        await pilot.press("escape")
        await wait_for(pilot, lambda: _events(db_path, MANUAL_KILL) == 1, "manual_kill row")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not asking(app), "the question to close")
        assert app.halted
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: _events(db_path, RESET) == 1, "risk_reset row")
        await wait_for(pilot, lambda: not app.halted, "the app to leave HALTED")
        app.handle.stop()


def _painted_halted(screen) -> bool:
    """Whether a screen wears the HALTED frame and desk bar."""
    bar_red = screen.query_one(DeskBar).styles.background == Color.parse("#5f0000")
    return screen.styles.border_top[0] == "heavy" and bar_red


async def test_halted_paints_every_screen_until_resumed(db_path, paced) -> None:
    """The red frame is on the screen the kill came from and on screens opened afterwards; it
    goes once the halt is lifted."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await _start_paced(app, pilot)
        dashboard = app.screen
        assert not _painted_halted(dashboard)
        await pilot.press("ctrl+k")
        assert _painted_halted(dashboard)  # in the key's own frame, before the question
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.pause()
        # the dialog shows the red dashboard behind it and draws no second frame of its own
        assert app.screen.styles.border_top[0] in ("", "none")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not asking(app), "the question to close")
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        assert _painted_halted(app.screen)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: not app.halted, "the halt to lift")
        await wait_for(pilot, lambda: not _painted_halted(app.screen), "the red frame to go")
        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "history")
        assert not _painted_halted(app.screen)
        app.handle.stop()


async def test_automatic_halt_names_the_limit(db_path, frozen) -> None:
    """A drawdown halt turns the app HALTED and the notification names the limit."""
    app = make_app(db_path, clock=frozen, iterations=200, every=0)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.screen.query_one("#max_drawdown", Input).value = "0.5"
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.desk.ended != "", "the session to end", tries=600)
        assert app.halted
        assert app.desk.halt_reason.startswith(DRAWDOWN)
        assert any(DRAWDOWN in n.message for n in app._notifications)
    assert _events(db_path, DRAWDOWN) == 1


async def test_failing_worker_halts_and_shows_the_error(db_path, frozen) -> None:
    """An exception in the trading loop halts trading and is shown, not swallowed."""

    def factory():
        session = build_local_session(LocalSettings(db=db_path), frozen)
        real = session.market.next_bars
        calls = {"n": 0}

        def next_bars():
            calls["n"] += 1
            if calls["n"] == 4:
                raise RuntimeError("feed exploded")
            return real()

        session.market.next_bars = next_bars
        return session

    app = make_app(db_path, clock=frozen, iterations=20, every=0, session_factory=factory)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.last_error != "", "the failure to be shown")
        await pilot.pause(0.15)
        assert app.halted and not app.running
        assert "feed exploded" in app.last_error
        assert "feed exploded" in str(app.screen.query_one("#halt-banner", Static).render())
        assert any("feed exploded" in n.message for n in app._notifications)
    open_database(db_path)
    assert SessionRow.get().status == "failed"


async def test_a_session_that_ends_as_the_desk_closes_does_not_crash_the_close(db_path) -> None:
    """The trading worker's "session ended" can be handled after the last screen has gone
    (CI saw it: ScreenStackError from the running-keys refresh). The close stays clean and the
    desk still records how the session ended."""
    app = make_app(db_path, iterations=0, every=0.02)
    async with app.run_test(size=SIZE):
        pass
    assert not app.screen_stack
    app.running = True
    app.on_session_ended(SessionEnded("stopped", 3, None))
    assert not app.running and app.desk.ended == "stopped"


async def test_quit_while_running_asks_and_stops_cleanly(db_path, paced) -> None:
    """ctrl+q asks; 'Keep running' keeps it; 'Stop and quit' ends the session as stopped."""
    app = make_app(db_path, clock=paced, iterations=0, every=0.02)
    async with app.run_test(size=SIZE) as pilot:
        await _start_paced(app, pilot)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not asking(app), "the question to close")
        assert app.running and app.is_running
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: asking(app), "the question")
        await pilot.click("#yes")
        await wait_for(pilot, lambda: not app.is_running, "the app to exit")
    # everything is in the database file itself: no write-ahead log left beside it
    assert not db_path.with_name(db_path.name + "-wal").exists()
    open_database(db_path)
    row = SessionRow.get()
    assert row.status == "stopped" and row.iterations > 0
    last = AccountSnapshot.select().order_by(AccountSnapshot.id.desc()).first()
    assert last.iteration == row.iterations and last.state == "active"
