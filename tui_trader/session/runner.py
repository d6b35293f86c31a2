"""Driving a session: how many cycles, how fast, and how it stops.

The same loop serves the CLI, the Textual worker and the tests. It never sleeps blindly: waits
go through the clock on the session's wake event, so Ctrl+C, the kill switch or a quit act at
once. Whatever stops the loop, the session's final state is written.

An outage does not end a session. When the broker or the market data does not answer (5xx,
429, timeouts, dropped connections; each read is already retried for a few seconds), the cycle
is skipped with a note and tried again every few seconds, with no new orders meanwhile. If no
cycle has succeeded for ``OUTAGE_BUDGET_S`` seconds the session halts with a ``broker_error``
risk event naming the real cause, and keeps running halted: fills of orders already sent are
still recorded (from the stream, or by polling once the broker answers) until it is stopped.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import replace

from tui_trader.brokers import BrokerError, Throttled
from tui_trader.core.domain import IterationReport
from tui_trader.core.waiting import beating
from tui_trader.engine.collector import freeze_startup_heap
from tui_trader.engine.hand_exits import HAND_LOOK_S
from tui_trader.engine.session import TradingSession
from tui_trader.market import MarketDataError
from tui_trader.security.redact import describe
from tui_trader.session.run_result import RunResult
from tui_trader.session.store_endings import (
    SESSION_ERROR,
    end_on_full_disk,
    end_on_lost_store,
    end_on_refused_store,
    end_on_row_ended,
    end_on_unwritable_store,
    write_halt,
)
from tui_trader.store.liveness import window_for
from tui_trader.store.pg import store_lost
from tui_trader.store.pg_refusals import refusal
from tui_trader.store.session_rows import RowEnded
from tui_trader.store.sqlite_errors import (
    is_disk_full,
    is_io_error,
    is_locked,
    is_read_only,
)

KILL_LOOK_S = 2.0
"""Seconds between a waiting desk's looks at the store for another process's requests (a
monitor's kill, a resume, the fleet's halt of the account): a monitor's press is taken within
this long. One short transaction each, with the heartbeat."""
HALT_RETRY_S = 10.0
"""Seconds between a waiting desk's tries of a halt it could not finish (a cancel the broker
refused or did not answer): each try is three requests (the positions, the open orders, the
cancel), at the priority kept for orders and cancels. Tried at every look, a desk halted on one
refused cancel spent 90 of Alpaca's 180 requests a minute while it waited; now 18."""
FAILED_FIRST = "this desk failed before it could put it back; look at the position at the broker"
"""Why a failed session whose finish did not run put back no exit it had cancelled."""
OUTAGE_BUDGET_S = 30.0
"""Seconds without a successful cycle (the broker or the market data not answering) before a
session halts with ``broker_error``; shorter outages only skip cycles."""
OUTAGE_RETRY_S = 5.0
"""Longest wait between attempts during an outage (shorter when ``every`` is shorter)."""


class SessionRunner:
    """Runs a started session until its iteration count, the end of data, or a stop."""

    def __init__(
        self,
        session: TradingSession,
        iterations: int = 0,
        every: float = 0.0,
        on_report: Callable[[IterationReport], None] | None = None,
        outage_budget: float | None = None,
    ) -> None:
        """``outage_budget``: seconds of failed cycles before an outage halts (default
        ``OUTAGE_BUDGET_S`` for a session on a remote broker). A local session has no outage:
        its data or broker failing is not something waiting would mend, so the run fails at
        once, as it always did (and a failing replay never spins halted forever)."""
        self.session = session
        self.iterations = iterations
        self.every = every
        self.on_report = on_report or (lambda report: None)
        self.stop_event = threading.Event()
        if outage_budget is None and session.config.mode != "local":
            outage_budget = OUTAGE_BUDGET_S
        self.outage_budget = outage_budget
        self._outage_since: float | None = None
        """Monotonic time of the first failed cycle of the outage in progress, if any."""
        self._outage_halted = False
        """Whether an outage has halted the session: it halts again only once that halt was
        lifted (remembered for the whole run whatever became of it, an outage after a reset
        never halted)."""

    def stop(self) -> None:
        """Ask the loop to finish the current cycle and end (any thread)."""
        self.stop_event.set()
        self.session.wake.set()

    def run(self) -> RunResult:
        """Loop until done; failures halt trading, are recorded, and end the run. A wait
        inside a cycle (the request budget, a read's retries, a stop's cancel) beats the
        session's heartbeat meanwhile (``core.waiting``), as the wait between cycles does."""
        with beating(self.session.audit.beat_waiting, self.session.audit.beat_aside):
            result = self._run()
        return replace(result, stops_left=self.session.stops_left)

    def _run(self) -> RunResult:
        """The loop itself (``run``)."""
        session = self.session
        status = "stopped"
        session.audit.set_heartbeat_window(window_for(self.every))
        freeze_startup_heap()
        try:
            while not self.stop_event.is_set():
                if self.iterations and session.iteration >= self.iterations:
                    status = "completed"
                    break
                # From here on a request (kill, resume, manual order, stop) wakes the wait
                # after this cycle. Clearing it at the wait instead lost a kill switch pressed
                # while the cycle ended: it waited a whole interval.
                session.wake.clear()
                try:
                    report = session.run_iteration()
                except Throttled as exc:  # nothing was sent: skip, say so, no halt
                    note = f"throttled: {exc}; this cycle's reads skipped, no new orders"
                    report = session.outage_report([], [note])
                except (BrokerError, MarketDataError) as exc:
                    if self.outage_budget is None:
                        raise  # a local session: the run fails (below)
                    report = self._outage(exc)
                else:
                    self._outage_since = None
                if report is None and session.market_exhausted:
                    status = "end_of_data"
                    break
                if report is not None:
                    self.on_report(report)
                wait = self.every
                if self._outage_since is not None:
                    wait = min(wait or OUTAGE_RETRY_S, OUTAGE_RETRY_S, self.outage_budget / 4)
                if wait > 0 and not self.stop_event.is_set():
                    self._wait(wait)
                    killed = session.apply_kill_requests()
                    if killed is not None:
                        self.on_report(killed)
            self._sync_quietly()
        except RowEnded as exc:
            return end_on_row_ended(session, exc)
        except (BrokerError, MarketDataError, OSError) as exc:
            return self._fail(exc)
        except Exception as exc:
            if (refused := refusal(session.audit.db, exc)) is not None:
                return end_on_refused_store(session, refused)
            if is_disk_full(exc):
                return end_on_full_disk(session)
            if is_locked(exc) or is_read_only(exc) or is_io_error(exc):
                return end_on_unwritable_store(session, exc)
            if store_lost(session.audit.db, exc):
                return end_on_lost_store(session, exc, self.stop_event)
            self._fail(exc)
            raise
        try:
            session.finish(status)
        except RowEnded as exc:  # a heartbeat in its last writes' waits found it ended
            return end_on_row_ended(session, exc)
        return RunResult(status, session.iteration)

    def _wait(self, seconds: float) -> None:
        """Wait ``seconds`` (or until woken: at once if a request came during the cycle),
        looking every ``KILL_LOOK_S`` for what another process asked of this desk (a monitor's
        or the fleet's kill request, a resume, a halt of the account): taken then, not at the
        next bar. Before, a desk on daily bars took a monitor's ctrl+k the next day, its
        orders working at the broker meanwhile. Every ``HAND_LOOK_S`` while an order by hand
        works, its exit is put in step once it has ended (``engine.hand_exits``). Each look
        beats the session's heartbeat, so that a long ``--every`` does not make it look dead.
        A halt left unfinished is tried again every ``HALT_RETRY_S``, not at each look."""
        session = self.session
        remaining = seconds
        unretried = 0.0  # seconds of this wait since the last try of an unfinished halt
        while remaining > 0:
            step = min(remaining, HAND_LOOK_S if session.follows_hand else KILL_LOOK_S)
            if session.clock.wait(step, session.wake):
                return
            remaining -= step
            unretried += step
            if remaining <= 0:
                break
            retry = unretried >= HALT_RETRY_S
            unretried = 0.0 if retry else unretried
            if (looked := session.apply_kill_requests(retry_halt=retry)) is not None:
                self.on_report(looked)

    def _outage(self, exc: BaseException) -> IterationReport:
        """A cycle failed for want of an answer: skip it (saying why), or halt once the outage
        has outlasted the budget; record whatever fills can still be recorded."""
        session = self.session
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
        elapsed = now - self._outage_since
        cause = f"{type(exc).__name__}: {exc}".strip()
        self._sync_quietly()
        if elapsed >= self.outage_budget:
            if not (self._outage_halted and session.risk.state.halted):
                self._outage_halted = True
                return session.halt_for_outage(cause, elapsed)
            note = f"still no answer after {elapsed:.0f} s (halted; fills still recorded): {cause}"
        else:
            note = (
                f"no answer for {elapsed:.0f} s (halt after {self.outage_budget:.0f} s); "
                f"cycle skipped, no new orders: {cause}"
            )
        return session.outage_report([], [note])

    def _sync_quietly(self) -> None:
        """Record the fills that can be recorded; an unreachable broker is not an error here."""
        with contextlib.suppress(BrokerError, MarketDataError):
            self.session.sync_orders()

    def _fail(self, exc: BaseException) -> RunResult:
        """Halt, write what went wrong as a risk event, end as failed (``halt_failed``).

        The event ("halted trading until reset") and the account's halted risk state go in one
        commit, as ``_record_halt_and_end`` writes a store failure's: before, the state waited
        for ``finish``'s own commit, and a process killed between the two left the event with
        the account active, so the next start traded."""
        session = self.session
        message = describe(exc)
        try:
            write_halt(session, session.halt_failed(SESSION_ERROR, message), message)
            session.finish("failed", message)
        except Exception as exc2:  # the store itself may be what failed; the caller hears why
            if isinstance(exc2, RowEnded):  # recorded ended meanwhile: ``finish`` told no end
                session.tell_end("failed", message)
            if not session.stops_left:  # finish did not get to its stops: say which are down
                session.stops_left = tuple(session.stops_down(could_not=FAILED_FIRST))
        return RunResult("failed", session.iteration, message)
