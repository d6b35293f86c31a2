"""The desk's session lifecycle: start a plan, run it in the trading worker, fold its messages in.

A mixin of ``TraderApp``, kept apart so that how a session starts, reports, ends and fails reads
on one page. The trading worker (a thread) only posts typed messages; these handlers, on the UI
thread, fold them into the ``DeskState``. A failed start goes back to setup with its reason; a
session that fails (or a worker that raises) leaves trading HALTED, loudly.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, WorkerState

from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.security.redact import describe, redact
from tui_trader.tui.messages import (
    FollowNotice,
    SessionEnded,
    SessionFailedToStart,
    SessionReport,
    SessionStarted,
    StartingNote,
)
from tui_trader.tui.setup_form import ALPACA_UNAVAILABLE
from tui_trader.tui.state import DeskState, new_day_notice, preload_calendar

if TYPE_CHECKING:
    from tui_trader.core.clock import Clock
    from tui_trader.tui.handles import SessionHandle
    from tui_trader.tui.screens.dashboard import DashboardScreen
    from tui_trader.tui.setup_form import SessionPlan


def start_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "the session could not start" (shown on setup, not a crash):
    what the start refused before the session ran is the user's to fix there, never a halt.

    Imported here, in the trading worker, not at start: the session's modules (the store, the
    market data, the engine) are not needed to draw the first screen and cost ~0.4 s to import.
    """
    from tui_trader.market import MarketDataError
    from tui_trader.session.alpaca import AlpacaSetupError
    from tui_trader.session.key_minute import KeyBusyAtStart
    from tui_trader.session.local import SettingsError
    from tui_trader.store.db import StoreError

    return (
        SettingsError,
        MarketDataError,
        StoreError,
        AlpacaSetupError,  # an account, symbol or server Alpaca's start refused
        KeyBusyAtStart,  # the key's requests spent past the start's wait
        OSError,
        ImportError,
        ValueError,
    )


DAY_NOTICE_SECONDS = 10.0
"""How long the new-trading-day notice shows; no second one is raised meanwhile."""


class SessionLifecycle:
    """Start, run and end sessions for ``TraderApp`` (which supplies the state and the screens).

    The message handlers are named ``on_<message>`` (Textual finds those along the MRO; its
    ``@on`` decorator only registers handlers declared on a Textual class itself).
    """

    desk: DeskState
    clock: Clock
    day_notice_at: float = -DAY_NOTICE_SECONDS
    """When (monotonic seconds) the last new-trading-day notice was shown."""
    seed: int | None
    iterations: int | None
    every: float | None
    session_factory: object
    monitor: SessionHandle | None
    handle: SessionHandle | None
    trading_worker: Worker | None
    last_error: str
    halted: bool
    running: bool
    _heap_frozen: bool
    dashboard: DashboardScreen

    def start_plan(self, plan: SessionPlan) -> None:
        """Start the session a setup plan describes, in the trading worker."""
        if self.running:
            self.notify("A session is already running.", severity="warning")
            return
        settings = plan.settings
        if self.seed is not None:
            from dataclasses import replace

            settings = replace(settings, seed=self.seed)
        from tui_trader.tui.handles import SESSION_BUILDERS, LocalHandle

        builder = SESSION_BUILDERS.get(plan.mode)
        if builder is None:
            self.notify(ALPACA_UNAVAILABLE, severity="error")
            return
        factory = self.session_factory or builder(
            settings,
            self.clock,
            adopt_positions=plan.adopt_positions,
            readiness_skipped=plan.readiness_skipped,
            say=lambda text: self.post_message(StartingNote(text)),
        )
        iterations = self.iterations if self.iterations is not None else plan.iterations
        every = self.every if self.every is not None else plan.every
        self.desk.begin(plan.mode)  # the dashboard shows nothing of the previous session
        if self.dashboard.is_mounted:
            self.dashboard.reset()
        self._start(LocalHandle(factory, iterations, every, plan.ops, settings.db))
        self.switch_mode("dashboard")

    def _start(self, handle: SessionHandle) -> None:
        """Hand a session to the trading worker."""
        self.handle = handle
        self.halted = False
        self.running = True
        self.last_error = ""
        self.trading_worker = self.run_session(handle)

    @work(thread=True, exclusive=True, group="trading", exit_on_error=False)
    def run_session(self, handle: SessionHandle) -> None:
        """The trading worker: build, run, report; it only ever posts messages."""
        try:
            info = handle.build()
        except start_errors() as exc:
            self.post_message(SessionFailedToStart(redact(str(exc))))
            return
        if not info.daily_bars:
            preload_calendar()  # the market clock reads it on every tick: load it here, once
        self.post_message(SessionStarted(info))
        result = handle.run(
            lambda report: self.post_message(SessionReport(report)),
            lambda text, trouble: self.post_message(FollowNotice(text, trouble)),
        )
        self.post_message(
            SessionEnded(result.status, result.iterations, result.error, result.stops_left)
        )

    def on_session_started(self, message: SessionStarted) -> None:
        """Show the new session, and once what it found on the store as it started."""
        self.desk.start(message.info)
        if self.dashboard.is_mounted:
            self.dashboard.reset()
        self.tick()
        for notice in message.info.notices:
            self.notify(
                notice, title="Earlier session", severity="warning", timeout=20, markup=False
            )
        if not self._heap_frozen:
            self._heap_frozen = True
            self.call_after_refresh(self._freeze_heap)

    def _freeze_heap(self) -> None:
        """Keep the garbage collector off what exists once the first session is drawn.

        Modules, the app, its screens and widgets live as long as the process; a full collection
        walked all of them again (about 75 ms on the UI thread every ~15 s at 50 symbols, some
        8 ms per update on average). Frozen objects that are dropped later are still freed by
        reference counting (only a cycle among them would stay); anything created later is
        collected as before.
        """
        gc.freeze()

    def on_session_report(self, message: SessionReport) -> None:
        """Fold the (coalesced) reports in; announce automatic halts by the limit's name."""
        now = self.clock.now()
        for report in message.reports:
            for event in self.desk.apply(report, now):
                if event.event_type == MANUAL_KILL:
                    continue  # the kill switch announced itself
                self.notify(
                    f"Trading HALTED by {event.event_type}: {event.detail or event.action_taken}",
                    title="Risk limit",
                    severity="error",
                    timeout=15,
                )
            if self.desk.new_day is not None:
                self._announce_new_day()
        self.halted = self.desk.halted

    def _announce_new_day(self) -> None:
        """One notice while it shows: a fast replay rolls a day every few seconds, and a stack
        of notices covered the dashboard (the desk bar's clock carries each day's date)."""
        now = time.monotonic()
        if now - self.day_notice_at < DAY_NOTICE_SECONDS:
            return
        self.day_notice_at = now
        self.notify(new_day_notice(self.desk), title="New trading day", timeout=DAY_NOTICE_SECONDS)

    def on_follow_notice(self, message: FollowNotice) -> None:
        """The monitor's store stopped answering (shown in the desk bar until it answers
        again), or answers again."""
        self.desk.mark_unreachable(message.text if message.trouble else "")
        self.tick()
        self.notify(
            message.text,
            title="Audit store",
            severity="warning" if message.trouble else "information",
            timeout=30 if message.trouble else 10,
            markup=False,
        )

    def on_starting_note(self, message: StartingNote) -> None:
        """The start waits for something (the Alpaca key's next minute): said in the desk bar
        while it waits, and once as a notice."""
        if not self.desk.starting:
            return
        self.desk.starting_note = message.text
        self.tick()
        self.notify(message.text, title="Starting", severity="warning", markup=False)

    def on_session_failed_to_start(self, message: SessionFailedToStart) -> None:
        """Back to setup with the reason."""
        self.running = False
        self.handle = None
        if self.desk.starting:  # nothing is starting any more: NO SESSION again
            self.desk.start(None)
        self.notify(f"Session not started: {message.error}", severity="error", timeout=15)
        if self.monitor is None:
            self.switch_mode("setup")

    def on_session_ended(self, message: SessionEnded) -> None:
        """The loop returned: a failure halts and is shown; otherwise say how it ended."""
        self.running = False
        self.desk.mark_ended(message.status)
        self.tick()
        if message.status == "failed":
            self._show_failure(message.error or "unknown error")
        else:
            self.notify(f"Session {message.status} after {message.iterations} iteration(s).")
        for line in message.stops_left:  # a position left without the stop it took down
            self.notify(line, title="Stop left down", severity="error", timeout=60)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A trading worker that raised is shown loudly and leaves trading halted."""
        worker = event.worker
        if worker.group != "trading" or event.state is not WorkerState.ERROR:
            return
        self.running = False
        error = worker.error
        self._show_failure(describe(error) if error is not None else "unknown error")

    def _show_failure(self, error: str) -> None:
        """HALTED, with the error in the banner and a notification that stays."""
        self.last_error = error
        if self.monitor is not None:  # the followed session runs on; only the monitor stopped
            self.desk.mark_ended(f"monitor stopped: {error}")
            self.notify(
                f"The monitor stopped following the session: {error}. The session itself is "
                "not affected; restart the monitor to follow it again.",
                title="Monitor error",
                severity="error",
                timeout=60,
            )
            return
        self.desk.mark_halted("session_error: the trading worker failed", error)
        self.halted = True
        self.notify(
            f"The session failed and trading is halted: {error}",
            title="Session error",
            severity="error",
            timeout=60,
        )
