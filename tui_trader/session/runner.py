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
from dataclasses import dataclass, replace

from tui_trader.brokers import BrokerError, Throttled
from tui_trader.core.domain import IterationReport, RiskEvent
from tui_trader.core.waiting import beating
from tui_trader.engine.collector import freeze_startup_heap
from tui_trader.engine.hand_exits import HAND_LOOK_S
from tui_trader.engine.lost_store_cancels import cancel_on_lost_store
from tui_trader.engine.session import TradingSession
from tui_trader.market import MarketDataError
from tui_trader.security.redact import describe
from tui_trader.store.db import locked_message
from tui_trader.store.liveness import BEAT_SECONDS, window_for
from tui_trader.store.pg import lost_message, reconnect, store_lost
from tui_trader.store.pg_refusals import Refusal, refusal
from tui_trader.store.session_rows import RowEnded, StoreFileLost
from tui_trader.store.sqlite_errors import (
    disk_full_message,
    io_error_message,
    is_disk_full,
    is_io_error,
    is_locked,
    is_read_only,
    read_only_message,
)

SESSION_ERROR = "session_error"
AUDIT_FULL = "audit_full"
"""The halt reason when the audit trail cannot be written for lack of space."""
WAIT_SLICE = 10 * BEAT_SECONDS
"""A long wait between cycles is cut into slices this long, with a heartbeat after each."""
ROW_ENDED_ACTION = "stopped this session; the account is not halted"
"""What a session whose row was recorded ended under it did (``end_on_row_ended``)."""
STORE_FAILED = (
    "this desk stopped on its store's failure, so it sent no stop (one could not be recorded); "
    "look at the position at the broker"
)
"""Why a session ended on its store's failure put back no exit it had cancelled."""
FAILED_FIRST = "this desk failed before it could put it back; look at the position at the broker"
"""Why a failed session whose finish did not run put back no exit it had cancelled."""
OUTAGE_BUDGET_S = 30.0
"""Seconds without a successful cycle (the broker or the market data not answering) before a
session halts with ``broker_error``; shorter outages only skip cycles."""
OUTAGE_RETRY_S = 5.0
"""Longest wait between attempts during an outage (shorter when ``every`` is shorter)."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended."""

    status: str
    """``completed``, ``end_of_data``, ``stopped`` (Ctrl+C or quit) or ``failed``."""
    iterations: int
    error: str | None = None
    audit_failed: bool = False
    """The session could not go on with its audit trail (disk full, store lost or locked, its
    row recorded ended under it): ``error`` says why, in the one line on stderr."""
    stops_left: tuple[str, ...] = ()
    """Positions the session left without the exit it had cancelled, and why, one line each
    (``engine.stops_at_finish``): said where the session's end is shown."""


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
        beating the session's heartbeat meanwhile so that a long ``--every`` does not make it
        look dead; every ``HAND_LOOK_S`` while an order by hand works, its exit is put in step
        once it has ended (``engine.hand_exits``), not at the next bar."""
        session = self.session
        remaining = seconds
        while remaining > 0:
            step = min(remaining, HAND_LOOK_S if session.follows_hand else WAIT_SLICE)
            if session.clock.wait(step, session.wake):
                return
            remaining -= step
            if remaining > 0 and session.follows_hand:  # (a look beats the heartbeat too)
                if (looked := session.apply_kill_requests()) is not None:
                    self.on_report(looked)
            elif remaining > 0:
                session.audit.beat()

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
            _write_halt(session, session.halt_failed(SESSION_ERROR, message), message)
            session.finish("failed", message)
        except Exception as exc2:  # the store itself may be what failed; the caller hears why
            if isinstance(exc2, RowEnded):  # recorded ended meanwhile: ``finish`` told no end
                session.tell_end("failed", message)
            if not session.stops_left:  # finish did not get to its stops: say which are down
                session.stops_left = tuple(session.stops_down(could_not=FAILED_FIRST))
        return RunResult("failed", session.iteration, message)


def end_on_full_disk(session: TradingSession) -> RunResult:
    """The audit trail hit a full disk: send nothing more, end the session in a known state.

    SQLite has rolled the failed transaction back (its rows were never committed, and an order
    whose row was not written was never sent). Trading halts in memory, so nothing else is sent
    before the session ends; then one attempt writes the session's end (``failed``), which
    often fits in the pages the rollback left. If it does not, the row keeps ``running`` until
    its stale heartbeat marks the session dead."""
    message = disk_full_message(session.audit.db.database)
    session.audit.abandon()
    halt = session.risk.halt(AUDIT_FULL, 0.0, 0.0, message)
    session.tell_unrecorded(halt)  # alerts: this halt cannot be written as a risk event
    said = cancel_on_lost_store(session, message)
    try:
        session.audit.end_session("failed", session.iteration)
    except Exception:  # still no space: the heartbeat will tell
        session.audit.abandon()
    session.tell_end("failed", _stops_down(session, said))
    return RunResult("failed", session.iteration, said, audit_failed=True)


def end_on_refused_store(session: TradingSession, refused: Refusal) -> RunResult:
    """The PostgreSQL server refused a write while it still answers: its disk is full, or it
    takes no writes (``store.pg_refusals``). The failed statement took its transaction with it
    (an order whose row was not committed was never sent). Trading halts in memory, said in one
    line; one more attempt writes the halt and the session's end (``failed``), which a server
    whose disk filled may still take. If it does not, the row keeps ``running`` until its stale
    heartbeat marks the session dead."""
    session.audit.abandon()
    reason = AUDIT_FULL if refused.full else SESSION_ERROR
    halt = session.risk.halt(reason, 0.0, 0.0, refused.message)
    session.tell_unrecorded(halt)
    said = cancel_on_lost_store(session, refused.message)
    _record_halt_and_end(session, halt, refused.message)
    session.tell_end("failed", _stops_down(session, said))
    return RunResult("failed", session.iteration, said, audit_failed=True)


def end_on_row_ended(session: TradingSession, exc: RowEnded) -> RunResult:
    """The session woke to find its row recorded ended (``died``) by another session's start
    while it was suspended, or its SQLite file deleted or replaced under it
    (``store.session_rows``): stop at once, fail closed. A file deleted or replaced
    (``StoreFileLost``) also cancels the desk's working orders at the broker but its
    protective exits, unrecorded (``engine.lost_store_cancels``); a row another desk ended
    does not: its orders are that desk's now.

    The cycle that noticed rolls back (nothing of it was sent: the heartbeat comes before the
    rebalance). Trading halts in memory and the simulated account cancels its working orders,
    which the other start already recorded ``canceled``: the account matches the record. The
    row is left as recorded, and so is the account's risk state: halting it would also stop
    the session that took the account over (or the newer release's). The stop is written as
    a ``session_error`` event if the store takes it, in words true of the account
    (``ROW_ENDED_ACTION``): before, it said "halted trading until reset", which the account's
    row never said, and the next start traded."""
    message = str(exc)
    session.audit.abandon()
    session.risk.halt(SESSION_ERROR, 0.0, 0.0, message)  # this session sends nothing more
    stopped = RiskEvent(SESSION_ERROR, 0.0, 0.0, ROW_ENDED_ACTION, detail=message)
    session.tell_stop(stopped)
    if isinstance(exc, StoreFileLost):  # no other desk took its orders over: they stop here
        message = cancel_on_lost_store(session, message)
    if getattr(session.broker, "orders_end_with_session", False):
        with contextlib.suppress(Exception):
            session.broker.cancel_all()
    try:
        session.audit.risk_event(stopped, session.account_key, session.clock.now())
    except Exception:
        session.audit.abandon()
    session.tell_end("failed", _stops_down(session, message))
    return RunResult("failed", session.iteration, message, audit_failed=True)


def end_on_unwritable_store(session: TradingSession, exc: BaseException) -> RunResult:
    """The SQLite file could not be written: another program held its write lock past the
    busy timeout, it became read-only, or the system refused the write (a file-size limit, a
    disk quota, a failing disk). The cycle's transaction is lost (an order whose row was not
    committed was never sent). Trading halts in memory; one more attempt writes the halt and
    the session's end (``failed``). If that fails too, the row keeps ``running`` until its
    stale heartbeat marks the session dead."""
    path = session.audit.db.database
    if is_locked(exc):
        from tui_trader.store.lock_holders import frozen_holders

        # a desk of this file frozen inside its transaction is named, with what to do
        message = locked_message(path, holders=frozen_holders(path))
    elif is_read_only(exc):
        message = read_only_message(path)
    else:
        message = io_error_message(path)
    session.audit.abandon()
    if is_io_error(exc):  # a file-size limit or a quota: the log is what hit it
        session.audit.db.shrink_log()
    halt = session.risk.halt(SESSION_ERROR, 0.0, 0.0, message)
    session.tell_unrecorded(halt)
    said = cancel_on_lost_store(session, message)
    _record_halt_and_end(session, halt, message)
    session.tell_end("failed", _stops_down(session, said))
    return RunResult("failed", session.iteration, said, audit_failed=True)


def end_on_lost_store(
    session: TradingSession, exc: BaseException, stop: threading.Event | None = None
) -> RunResult:
    """The PostgreSQL store went away mid-session: send nothing more, say so, keep what is kept.

    The open transaction died with the connection (its rows were never committed, and an order
    whose row was not written was never sent); every row committed before stays on the server.
    Trading halts in memory, then the session tries to reach the server again for up to
    ``store.pg.RECONNECT_WITHIN`` seconds (a restart's or a failover's time) to write the halt
    and its end (``failed``): tried once, at once, a restart refused it and the account's next
    start traded; ``stop`` (Ctrl+C, the desk's app closing) cuts the tries short. If the server
    is still gone, the row keeps ``running`` until its stale heartbeat marks the session
    dead."""
    db = session.audit.db
    message = lost_message(db, exc)
    session.audit.abandon()
    halt = session.risk.halt(SESSION_ERROR, 0.0, 0.0, message)
    session.tell_unrecorded(halt)
    said = cancel_on_lost_store(session, message)  # at once: not after the tries to reconnect
    if reconnect(db, patient=True, stop=stop):
        _record_halt_and_end(session, halt, message)
    session.tell_end("failed", _stops_down(session, said))
    return RunResult("failed", session.iteration, said, audit_failed=True)


def _stops_down(session: TradingSession, message: str) -> str:
    """A session ended on its store's failure puts no exit back (a stop sent without its row
    would break the audit trail; a row ended under it means another desk keeps the account):
    each position whose exit it had cancelled is said to be maybe without it, in the end lines
    and in the end's notice (returned: ``message`` with those lines)."""
    session.stops_left = tuple(session.stops_down(could_not=STORE_FAILED))
    return "; ".join([message, *session.stops_left])


def _record_halt_and_end(session: TradingSession, halt: RiskEvent, message: str) -> None:
    """One attempt to write the halt and the session's end (``failed``) after the store
    failed; if it fails again (still locked, gone again), the session's stale heartbeat will
    mark it dead. The halt's event and the account's halted risk state go in one commit: the
    event says trading halted until reset, and so does the account's row the next start reads.
    Before, only the event was written, and once the store was back the next start traded."""
    audit = session.audit
    try:
        _write_halt(session, halt, message)
    except Exception:  # the session's end may still fit (it changes a row, adds none)
        audit.abandon()
    try:
        audit.end_session("failed", session.iteration)
    except Exception:
        audit.abandon()


def _write_halt(session: TradingSession, halt: RiskEvent, message: str) -> None:
    """A failed session's halt: its event ("halted trading until reset") and the account's
    halted risk state in one durable commit, so the row the next start reads says what the
    event says (written apart, a kill or a failure between the two left the account active)."""
    audit = session.audit
    with audit.db.durably(), audit.together():
        audit.risk_event(
            RiskEvent(halt.event_type, 0.0, 0.0, halt.action_taken, detail=message),
            session.account_key,
            session.clock.now(),
            durable=True,
        )
        session.risk.state = audit.save_risk_state(session.risk.state)
