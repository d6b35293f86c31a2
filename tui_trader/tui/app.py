"""The Textual app: screens, the one trading worker, the kill switch and the HALTED state.

The session runs in one thread worker that only posts typed messages; the app folds them into a
``DeskState`` and a 10 Hz tick redraws the visible screen when something changed. The kill switch
is an App-level priority binding, so it works on every screen, modal dialogs included: it halts
first, then asks about flattening. Starting, running and ending a session is
``session_lifecycle``; the kill switch, resume and quit are ``controls``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.dom import DOMNode
from textual.driver import Driver
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from tui_trader.core.clock import Clock, WallClock
from tui_trader.tui.controls import SessionControls, unframe
from tui_trader.tui.desk_actions import DESK_BINDINGS, DeskActions
from tui_trader.tui.navigation import NAV_BINDINGS, Navigation
from tui_trader.tui.screens.setup import SetupScreen
from tui_trader.tui.session_lifecycle import SessionLifecycle
from tui_trader.tui.state import DeskState
from tui_trader.tui.widgets.deskbar import DeskBar

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from tui_trader.tui.handles import SessionHandle
    from tui_trader.tui.screens.dashboard import DashboardScreen

TICK_SECONDS = 0.1
"""Redraw cadence: at most ten redraws a second, whatever the report rate."""
HALTED_RED = "#d70000"
"""The frame of every screen while trading is halted (the stylesheet uses the same red)."""


class TraderApp(SessionLifecycle, SessionControls, DeskActions, Navigation, App[None]):
    """The trading desk: setup → dashboard, history, help; one session at a time."""

    CSS_PATH: ClassVar[list[str]] = ["screens.tcss", "notifications.tcss"]  # toasts: the 2nd
    TITLE = "tui-trader"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+k",
            "kill_switch",
            "KILL SWITCH",
            priority=True,
            id="kill-switch",
            tooltip="Halt trading now and cancel open orders; then asks about flattening",
        ),
        Binding(
            "ctrl+r",
            "resume",
            "Resume",
            id="resume",
            tooltip="Ask to resume a halted session (confirmation; risk rules apply)",
        ),
        *DESK_BINDINGS,
        *NAV_BINDINGS,
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            priority=True,
            id="quit",
            tooltip="Quit; asks first and stops a running session cleanly",
        ),
    ]
    halted: reactive[bool] = reactive(False)
    """True while trading is halted: restyles the whole app."""
    running: reactive[bool] = reactive(False)
    """True while the trading worker runs a session."""

    def __init__(
        self,
        db_path: Path,
        *,
        clock: Clock | None = None,
        seed: int | None = None,
        iterations: int | None = None,
        every: float | None = None,
        live_enabled: bool = False,
        skip_readiness: bool = False,
        monitor: SessionHandle | None = None,
        session_factory=None,
        setup_defaults: dict[str, str] | None = None,
        fleet_only: bool = False,
    ) -> None:
        """Keep the injected inputs; the session starts later, from setup or the monitor."""
        super().__init__()
        self.fleet_only = fleet_only
        """``live monitor --all``: open on the Fleet screen; no session is started here."""
        self.db_path = db_path
        self.setup_defaults = setup_defaults
        """The setup form's starting text (from the settings file), or the built-in defaults."""
        self.clock = clock or WallClock()
        self.seed = seed
        self.iterations = iterations
        self.every = every
        self.live_enabled = live_enabled
        self.skip_readiness = skip_readiness
        """``--skip-readiness``: "Alpaca live" may start without a ready paper record (said on
        the live warning, written as a risk event), as ``live trading --skip-readiness``."""
        self.monitor = monitor
        self.session_factory = session_factory
        self.desk = DeskState()
        self._dashboard: DashboardScreen | None = None
        self.handle: SessionHandle | None = None
        self.trading_worker: Worker | None = None
        self.last_error = ""
        self._heap_frozen = False
        self._framed: list[Screen] = []
        """Screens given the red frame directly (cleared when the halt lifts)."""

    def run(self, **kwargs: Any) -> Any:  # type: ignore[override]
        """Run on the terminal; without one (``missing_terminal``) refuse in one line, exit 2,
        rather than draw into the void and wait for keys for ever. Returns ``App.run``'s result
        (what ``exit`` was given: a snapshot test's screenshot)."""
        from tui_trader.tui.terminal_driver import missing_terminal

        where = None if kwargs.get("headless") else missing_terminal()
        if where:
            from tui_trader.cli.common import UsageError

            raise UsageError(
                f"the desk needs a terminal and {where} is not one (it would wait for keys "
                "that never come): run it in a terminal, or 'tui-trader paper' without one"
            )
        return super().run(**kwargs)

    def get_driver_class(self) -> type[Driver]:
        """On a Linux or macOS terminal, Textual's driver made safe for a terminal that goes
        away (``tui/terminal_driver.py``); otherwise (Windows, the browser, a driver named in
        the environment) Textual's own choice. A ``$TEXTUAL_DRIVER`` that names no driver
        Textual can load (the browser front sets it: ``module:Class``) is one line, exit 2;
        the import's error was a crash line and a crash log."""
        try:
            chosen = super().get_driver_class()
        except Exception as exc:  # any error of importing what the variable names
            from tui_trader.cli.common import UsageError
            from tui_trader.core.shown import shown_line

            named = shown_line(os.environ.get("TEXTUAL_DRIVER", ""))
            raise UsageError(
                f"$TEXTUAL_DRIVER '{named}' names no terminal driver Textual can load "
                f"({type(exc).__name__}: {shown_line(str(exc))}): unset it to run the desk "
                "in this terminal"
            ) from None
        if chosen.__name__ == "LinuxDriver" and chosen.__module__ == "textual.drivers.linux_driver":
            from tui_trader.tui.terminal_driver import DeskDriver

            return DeskDriver
        return chosen

    # -- screens -------------------------------------------------------------------------------

    @property
    def dashboard(self) -> DashboardScreen:
        """The one dashboard, made (and its module imported) when first needed, not at start."""
        if self._dashboard is None:
            from tui_trader.tui.screens.dashboard import DashboardScreen

            self._dashboard = DashboardScreen()
        return self._dashboard

    async def on_mount(self) -> None:
        """Install the screens, open on setup (or the dashboard when monitoring).

        A screen's module is imported when the screen is first shown: the first screen is drawn
        without History, Report, Fleet or the dashboard's charts (issue 17: first screen < 1 s).
        """
        self.add_mode(
            "setup",
            lambda: self._new_screen(
                SetupScreen(
                    self.db_path, self.live_enabled, self.setup_defaults, self.skip_readiness
                )
            ),
        )
        self.add_mode("dashboard", lambda: self._new_screen(self.dashboard))
        self.add_mode("history", lambda: self._new_screen(self._history_screen()))
        self.add_mode("report", lambda: self._new_screen(self._report_screen()))
        self.add_mode("fleet", lambda: self._new_screen(self._fleet_screen()))
        self.set_interval(TICK_SECONDS, self.tick)
        self.install_stop_signals()
        if self.monitor is not None:
            self.switch_mode("dashboard")
            self._start(self.monitor)
        elif self.fleet_only:
            self.switch_mode("fleet")
        else:
            await self.switch_mode("setup")

    def _new_screen(self, screen: Screen) -> Screen:
        """A mode's new screen, marked as styled by the current stylesheet while no theme or
        CSS change is pending (none has happened since the app was made).

        Textual reparses every stylesheet and restyles the app for a screen whose mark is not
        the app's, and a first ``switch_mode`` did it twice (as the mode's screen is made and as
        it becomes current) with the same variables as the stylesheet was first parsed with:
        ~50 ms of CPU before the first frame. A new screen's widgets are styled as they mount.
        """
        if self._css_update_count == 0:
            screen._css_update_count = 0
        return screen

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Restyle ``node`` and its descendants, unless it is not in the DOM yet.

        Textual styles every widget as it is registered, so styling one before is wasted work:
        an ``Input`` restyles itself two or three times as it is built (its value's validation
        sets ``-valid``, ``compact`` a class), ~130 ms for the setup form's 20 fields.
        """
        if node is not self and not node.is_attached:
            return
        super().update_styles(node, animate)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A notification shown as written, never read as markup (``markup`` is ignored): the
        desk's notices quote account keys, hosts and halt reasons from a shared store, broker
        errors and typed symbols, where ``[/]`` raised MarkupError and ``[link=...]`` made a
        link. No notice of the desk styles itself with markup."""
        del markup
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _history_screen(self) -> Screen:
        """The History screen (imported on first use)."""
        from tui_trader.tui.screens.history import HistoryScreen

        return HistoryScreen(self.db_path, self.clock)

    def _report_screen(self) -> Screen:
        """The Report screen (imported on first use)."""
        from tui_trader.tui.screens.report import ReportScreen

        return ReportScreen(self.db_path, self._session_key)

    def _fleet_screen(self) -> Screen:
        """The Fleet screen (imported on first use)."""
        from tui_trader.tui.screens.fleet import FleetScreen

        return FleetScreen(self.db_path, self.clock)

    def tick(self) -> None:
        """Redraw the visible screen's desk bar and, if it has one, its dashboard.

        Under a dialog, a screen in the HALTED frame is repainted through the dialog whenever
        the desk changed: Textual repaints a screen behind a dialog at its changed places moved
        by the screen's border, one row lower on each update, so the desk bar (iteration,
        "updated 0s ago"), money and positions behind a "Resume trading?" stayed as they were.
        """
        if not self.is_running:
            return
        now = self.clock.now()
        stack = self.screen_stack
        changed = self.desk.version != self._ticked_version
        self._ticked_version = self.desk.version
        try:
            for screen in stack:  # a dialog's backdrop shows the desk too
                if not screen.is_mounted:
                    continue
                for bar in screen.query(DeskBar):
                    before = bar.render()
                    bar.show_desk(self.desk, now)
                    changed = changed or bar.render() != before
                redraw = getattr(screen, "refresh_desk", None)  # dashboard, working orders
                if redraw is not None:
                    redraw(self.desk, now)
        except NoMatches:  # the screen is being torn down (quitting)
            return
        if changed and len(stack) > 1 and any(s in self._framed for s in stack[:-1]):
            stack[-1].refresh()  # a dialog over the red frame: repaint what shows through it

    _ticked_version = -1
    """The desk's ``version`` at the last tick."""

    def watch_halted(self, halted: bool) -> None:
        """Paint every screen HALTED (or lift it), cheaply enough for the kill switch's frame.

        A class on the App restyles every widget of the visible screen (~45 ms on the dashboard,
        half of the kill switch's budget), so the screens already open get their red frame as an
        inline style and their desk bars a class of their own; the App's class, set without that
        restyle, paints the screens opened later through the stylesheet. Lifting the halt is not
        urgent: it restyles in full. Nothing to lift (as the app starts, Textual calls this with
        ``False``) is nothing to do: that restyle of the setup screen came before its first frame.
        """
        if not halted and not self._framed and not self.has_class("-halted"):
            return  # never halted: nothing to lift (the watcher's call as the app starts)
        if not halted:  # every screen painted red, those of other modes too (the dashboard
            stacks = getattr(self, "_screen_stacks", {}).values()  # stayed red after a resume
            for screen in {*self._framed, *(s for stack in stacks for s in stack)}:  # elsewhere)
                unframe(screen)
                for bar in screen.query(DeskBar):
                    bar.set_class(False, "-halted")
                self.update_styles(screen)
            self._framed.clear()
        for screen in self.screen_stack:
            if halted and not isinstance(screen, ModalScreen):  # a dialog shows the frame behind
                screen.styles.border = ("heavy", HALTED_RED)
                self._framed.append(screen)
            else:
                unframe(screen)
            for bar in screen.query(DeskBar):
                bar.set_class(halted, "-halted")
        self.set_class(halted, "-halted", update=not halted)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys stay live and say why they cannot act (F4 while a session ran did nothing);
        the keys for trading by hand are offered only while a session runs here."""
        if action in ("order_ticket", "working_orders", "stop_session"):
            return self._local() is not None
        return True

    def watch_running(self) -> None:
        """Offer or withdraw the keys that need a running session.

        A session can end while the desk closes, after the last screen has gone: nothing
        is left to offer keys on then.
        """
        if self.screen_stack:
            self.refresh_bindings()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The main actions in the command palette."""
        yield SystemCommand("Kill switch", "Halt trading now (ctrl+k)", self.action_kill_switch)
        yield SystemCommand("Resume trading", "Ask to lift a halt (ctrl+r)", self.action_resume)
        yield SystemCommand("Dashboard", "The running session (f2)", self.action_show_dashboard)
        yield SystemCommand("History", "Orders, trades, risk events (f3)", self.action_show_history)
        yield SystemCommand("Report", "Performance figures (f9)", self.action_show_report)
        yield SystemCommand("Fleet", "Every session; halt one or all (f12)", self.action_show_fleet)
        yield from self.desk_commands()
        if not self.running and self.monitor is None:
            yield SystemCommand("New session", "The setup screen (f4)", self.action_show_setup)
        yield SystemCommand("Help", "Every key (f1)", self.action_help)
        yield from super().get_system_commands(screen)


def make_app(
    db_path: Path,
    *,
    seed: int | None = None,
    clock: Clock | None = None,
    iterations: int | None = None,
    every: float | None = None,
    live_enabled: bool = False,
    skip_readiness: bool = False,
    session_factory=None,
    monitor: SessionHandle | None = None,
    setup_defaults: dict[str, str] | None = None,
    fleet_only: bool = False,
) -> TraderApp:
    """The app with its inputs injected (tests pass a frozen clock, a seed, an iteration bound)."""
    return TraderApp(
        db_path,
        clock=clock,
        seed=seed,
        iterations=iterations,
        every=every,
        live_enabled=live_enabled,
        skip_readiness=skip_readiness,
        session_factory=session_factory,
        monitor=monitor,
        setup_defaults=setup_defaults,
        fleet_only=fleet_only,
    )
