"""The app's session controls: the kill switch, resume, and quitting a running session.

A mixin of ``TraderApp``, kept apart so that the safety-critical flows read on one page. Order
matters: the kill switch halts first and only then asks about flattening; resume asks first and
the session decides whether the risk state allows it; quitting stops the worker and waits for it
to write the session's final state. SIGTERM (``kill``, a service stop) and SIGHUP (the terminal
closed) quit the same way, without asking: nobody is there to answer.

In ``live monitor`` the kill switch asks the followed session to halt through the store: the
request is taken at once and written in the background (``monitor_halt``), and the desk bar
says at once, on every screen, HALT REQUESTED and whether it is written yet; it never waits
for a store that does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, cast

from tui_trader.core.shown import shown_text
from tui_trader.tui.messages import HaltRequestStatus
from tui_trader.tui.screens.confirm import ConfirmScreen
from tui_trader.tui.widgets.deskbar import DeskBar

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.worker import Worker

    from tui_trader.core.clock import Clock
    from tui_trader.tui.handles import SessionHandle
    from tui_trader.tui.monitor_halt import HaltStatus
    from tui_trader.tui.monitor_handle import MonitorHandle
    from tui_trader.tui.state import DeskState


class SessionControls:
    """Kill switch, resume and quit actions for ``TraderApp`` (which supplies the state)."""

    handle: SessionHandle | None
    desk: DeskState
    running: bool
    halted: bool
    monitor: SessionHandle | None
    trading_worker: Worker | None
    clock: Clock

    def action_kill_switch(self) -> None:
        """Halt now (cancelling open orders), then ask whether to flatten too. On the Fleet
        screen: halt this desk's own session at once all the same, then ask to halt the
        selected row's account (every session on it)."""
        halt_row = getattr(self.screen, "halt_selected", None)
        if halt_row is not None:
            here = self.handle is not None and (self.running or self.monitor is not None)
            if here and not self.desk.halted and self._halt_here():
                self.notify("KILL SWITCH: this desk's own session is halted.", severity="error")
            halt_row()
            return
        if self._halt_here():
            # HALTED reaches the screen first; the toast and the question follow in the next
            # frame (a dialog over the dashboard costs a full tinted repaint of it).
            self.call_after_refresh(self._ask_to_flatten)

    def _halt_here(self) -> bool:
        """Halt this desk's session (or ask the followed one to halt); False if nothing was."""
        following = self.monitor is not None and self.handle is not None
        if self.handle is None or not (self.running or following):
            self.notify("No session is running: nothing to halt.", severity="warning")
            return False
        if self.desk.halted:
            self.notify("Trading is already halted.", severity="warning")
            return False
        if following:
            return self._request_followed_halt(flatten=False)
        try:
            self.handle.kill(flatten=False)
        except Exception as exc:  # a monitor's database write can fail: say so, loudly
            self.notify(
                f"The kill switch could not reach the session: {exc}. Stop it where it runs.",
                title="KILL SWITCH FAILED",
                severity="error",
                timeout=60,
            )
            return False
        self.desk.mark_halted("manual_kill: kill switch pressed (ctrl+k)")
        self.halted = True
        self._show_halt_now()
        return True

    def _request_followed_halt(self, flatten: bool) -> bool:
        """Ask the followed session to halt (``flatten``: and close every position): queued
        at once, written in the background; the desk bar says so in the key's own frame. The
        session halts at its next cycle once the row is written; HALTED shows once it says so.
        False when the same request is still waiting to be written (nothing more is queued).
        """
        handle = cast("MonitorHandle", self.handle)
        status = handle.request_halt(flatten, lambda s: self.post_message(HaltRequestStatus(s)))
        if status is None:
            self.notify(
                f"HALT already requested {self.desk.halt_request}; nothing more is queued.",
                title="KILL SWITCH",
                severity="warning",
            )
            return False
        self.desk.mark_halt_request(status.brief, status.written)
        now = self.clock.now()
        for screen in self.screen_stack:
            for bar in screen.query(DeskBar):
                bar.show_desk(self.desk, now)
        return True

    def on_halt_request_status(self, message: HaltRequestStatus) -> None:
        """The followed halt request is written, not yet (the store does not answer: said
        once), or refused: shown in the desk bar, and said."""
        status: HaltStatus = message.status
        was = self.desk.halt_request
        self.desk.mark_halt_request(status.brief, status.written, status.failed)
        self.tick()  # type: ignore[attr-defined]
        if status.failed:
            self.notify(status.text, title="KILL SWITCH FAILED", severity="error", timeout=60)
        elif status.written:
            self.notify(status.text, title="KILL SWITCH", severity="warning")
        elif status.trouble and was != status.brief:
            self.notify(status.text, title="KILL SWITCH", severity="error", timeout=30)

    def _show_halt_now(self) -> None:
        """The HALTED badge and banner in the key's own frame, not at the next 10 Hz tick.

        Only those: the halt changes nothing else on the dashboard, whose full redraw (tables,
        logs, charts: ~10 ms at 50 symbols, more under load) follows at the next tick.
        """
        now = self.clock.now()
        for screen in self.screen_stack:
            for bar in screen.query(DeskBar):
                bar.show_desk(self.desk, now)
            banner = getattr(screen, "show_halt", None)  # the dashboard
            if banner is not None:
                banner(self.desk)

    def _ask_to_flatten(self) -> None:
        """After the halt is on screen: say so, and offer to close every position too (for a
        followed session: the halt is requested, and shows once the session confirms it)."""
        if self.monitor is not None:
            title = "Halt requested"
            body = (
                "The session halts at its next cycle once the request is written; HALTED "
                "shows once it confirms."
            )
            if not self.desk.halt_written:
                self.notify(f"KILL SWITCH: HALT requested {self.desk.halt_request}.")
        else:
            title = "Trading is HALTED"
            body = "The desk's open orders are cancelled and no new exposure will be taken."
            self.notify("KILL SWITCH: trading halted, open orders cancelled.", severity="error")
        self.push_screen(
            ConfirmScreen(
                title,
                f"{body}\n\nAlso close (flatten) the desk's open positions at market?",
                yes="Flatten the desk's positions",
                no="Keep positions",
            ),
            self._flatten_answer,
        )

    def _flatten_answer(self, flatten: bool | None) -> None:
        """Flatten if the user asked to (the halt already happened)."""
        if flatten and self.handle is not None and self.monitor is not None:
            self._request_followed_halt(flatten=True)
            return
        if flatten and self.handle is not None and self.running:
            try:
                self.handle.kill(flatten=True)
            except Exception as exc:  # the halt stands; only the flatten request failed
                self.notify(f"Flatten request failed: {exc}", severity="error", timeout=60)
                return
            self.notify("Flattening every position.", severity="warning")

    def action_resume(self) -> None:
        """Ask, then request a resume; refused where the risk state does not allow it."""
        if self.handle is None or not self.running or not self.desk.halted:
            self.notify("Nothing to resume: trading is not halted.", severity="warning")
            return
        refusal = self.handle.resume_refusal()
        if refusal is not None:  # (it may name a file: its words are not markup)
            from rich.markup import escape

            said = escape(shown_text(refusal))
            self.notify(f"Cannot resume: {said}.", severity="warning", timeout=10)
            return

        def answered(yes: bool | None) -> None:
            if yes and self.handle is not None:
                self.handle.resume()
                self.notify("Resume requested: trading restarts at the next iteration.")

        self.push_screen(
            ConfirmScreen(
                "Resume trading?",
                f"Trading was halted ({self.desk.halt_reason}).\n\nResuming lifts the halt and "
                "restarts the drawdown peak from the current equity. New orders may be sent.",
                yes="Resume trading",
                no="Stay halted",
            ),
            answered,
        )

    # -- quitting ------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; while a session runs, ask first, then stop it cleanly."""
        if not self.running:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_worker(self.shutdown(), group="shutdown", exclusive=True)

        what = "following" if self.monitor is not None else "running"
        self.push_screen(
            ConfirmScreen(
                "Quit?",
                f"A session is {what}. Stop it after the current iteration, write its final "
                f"state, and quit?{self._working_note()}",
                yes="Stop and quit",
                no="Keep running",
            ),
            answered,
        )

    def _working_note(self) -> str:
        """What becomes of the orders still working when the desk quits: a local session's
        are cancelled as it ends (``SessionFinish.finish``), an Alpaca one's stay live."""
        if self.monitor is not None and self.desk.halt_request and not self.desk.halt_written:
            return (
                "\n\nYour halt request is NOT written to the store yet: quitting drops it. "
                "Halt the session where it runs."
            )
        count = len(self.desk.working)
        if not count or self.monitor is not None or self.desk.info is None:
            return ""
        if self.desk.info.mode == "local":
            fate = "are cancelled unfilled when this local session ends"
        else:
            fate = "stay working at the broker after the desk quits"
        cancel = "ctrl+k first halts trading and cancels them."
        return f"\n\n{count} order(s) still working {fate}: {cancel}"

    async def shutdown(self) -> None:
        """Stop the session, wait for the worker to write its final state, then exit."""
        if self.handle is not None:
            self.handle.stop()
        worker = self.trading_worker
        if worker is not None and not worker.is_finished:
            # a failed or slow worker must not keep the app open
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.wait(), timeout=15)
        self.exit()

    def install_stop_signals(self) -> None:
        """SIGTERM and SIGHUP stop the session cleanly and quit (main thread only)."""
        loop = asyncio.get_running_loop()
        self._stop_signals: list[int] = []
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                loop.add_signal_handler(signum, self._on_stop_signal)
                self._stop_signals.append(signum)

    def _on_stop_signal(self) -> None:
        """Stop the session after its current cycle, write its final state, and exit."""
        self.run_worker(self.shutdown(), group="shutdown", exclusive=True)

    def on_unmount(self) -> None:
        """Never leave a trading thread behind, nor our signal handlers."""
        if self.handle is not None:
            self.handle.stop()
        with contextlib.suppress(Exception):
            loop = asyncio.get_running_loop()
            for signum in getattr(self, "_stop_signals", ()):
                loop.remove_signal_handler(signum)


def unframe(screen: Screen) -> None:
    """Take the HALTED frame off a screen (``clear_rule("border")`` leaves its four sides set:
    the red frame stayed after the halt was lifted)."""
    for side in ("border_top", "border_right", "border_bottom", "border_left"):
        screen.styles.clear_rule(side)
