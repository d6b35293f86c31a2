"""How a session ends when its audit store fails under it.

The store full, refusing writes, locked, turned read-only, gone (a PostgreSQL server lost, the
SQLite file deleted or replaced), or the session's row recorded ended by another start: each
ends the session in a known state, said in one line. Trading halts in memory first, so nothing
else is sent; a lost store's own working orders are cancelled at the broker
(``engine.lost_store_cancels``); the halt and the session's end are written when the store
still takes them (``_record_halt_and_end``), and a session whose row another start ended
leaves the account alone (``ROW_ENDED_ACTION``). A halt the store could not take (the store
still gone, or a halt the desk held when its file was lost or its disk full) is kept on disk
for the account's next start (``session.kept_halt``). ``session.runner`` picks the ending.
"""

from __future__ import annotations

import contextlib
import threading
import time

from tui_trader.core.domain import RiskEvent
from tui_trader.core.waiting import beating
from tui_trader.engine.lost_store_cancels import cancel_on_lost_store
from tui_trader.engine.session import TradingSession
from tui_trader.engine.stops_at_finish import LEFT_DOWN
from tui_trader.session.kept_halt import keep_unwritten_halt
from tui_trader.session.run_result import RunResult
from tui_trader.store.db import locked_message
from tui_trader.store.models import RiskEventRow
from tui_trader.store.pg import RECONNECT_WITHIN, lost_message, reconnect, store_lost
from tui_trader.store.pg_budget import answering_by
from tui_trader.store.pg_refusals import Refusal
from tui_trader.store.session_rows import RowEnded, StoreFileLost
from tui_trader.store.sqlite_errors import (
    disk_full_message,
    io_error_message,
    is_io_error,
    is_locked,
    is_read_only,
    read_only_message,
)

SESSION_ERROR = "session_error"
AUDIT_FULL = "audit_full"
"""The halt reason when the audit trail cannot be written for lack of space."""
ROW_ENDED_ACTION = "stopped this session; the account is not halted"
"""What a session whose row was recorded ended under it did (``end_on_row_ended``)."""
STORE_FAILED = (
    "this desk stopped on its store's failure, so it sent no stop (one could not be recorded); "
    "look at the position at the broker"
)
"""Why a session ended on its store's failure put back no exit it had cancelled."""


def end_on_full_disk(session: TradingSession) -> RunResult:
    """The audit trail hit a full disk: send nothing more, end the session in a known state.

    SQLite has rolled the failed transaction back (its rows were never committed, and an order
    whose row was not written was never sent). Trading halts in memory, so nothing else is sent
    before the session ends; then one attempt writes the session's end (``failed``), which
    often fits in the pages the rollback left. If it does not, the row keeps ``running`` until
    its stale heartbeat marks the session dead."""
    message = disk_full_message(session.audit.db.database)
    session.audit.abandon()
    held = session.risk.state.halted  # a halt this desk held: maybe decided in the lost cycle
    halt = session.risk.halt(AUDIT_FULL, 0.0, 0.0, message)
    session.tell_unrecorded(halt)  # alerts: this halt cannot be written as a risk event
    cancel = cancel_on_lost_store(session, message)
    said = cancel.said
    if held:  # no row fits, and maybe no marker either (``session.kept_halt``)
        said = keep_unwritten_halt(session, said)
    try:
        session.audit.end_session("failed", session.iteration)
    except Exception:  # still no space: the heartbeat will tell
        session.audit.abandon()
    said = _stops_down(session, said, exits=True, unchecked=cancel.unchecked)
    session.tell_end("failed", said)
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
    cancel = cancel_on_lost_store(session, refused.message)
    left = _stops_down(session, "", exits=True, record=True, unchecked=cancel.unchecked)
    said = _record_halt_and_end(session, halt, refused.message, cancel.said)
    said += left  # the one line on stderr names each position left without its exit
    session.tell_end("failed", said)
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
    held = session.risk.state.halted  # a halt this desk held: the store lost may not have it
    session.risk.halt(SESSION_ERROR, 0.0, 0.0, message)  # this session sends nothing more
    stopped = RiskEvent(SESSION_ERROR, 0.0, 0.0, ROW_ENDED_ACTION, detail=message)
    session.tell_stop(stopped)
    if isinstance(exc, StoreFileLost):  # no other desk took its orders over: they stop here
        message = cancel_on_lost_store(session, message).said
        if held:  # a file restored from a copy would not hold it: kept for the next start
            message = keep_unwritten_halt(session, message)
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
    cancel = cancel_on_lost_store(session, message)
    left = _stops_down(session, "", exits=True, record=True, unchecked=cancel.unchecked)
    said = _record_halt_and_end(session, halt, message, cancel.said)
    said += left  # the one line on stderr names each position left without its exit
    session.tell_end("failed", said)
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
    dead. The halt goes first, the broker's read of the positions left without their exits
    after it: read first, a broker slow to answer spent the 30 s (every wait for the server
    ends by then: ``store.pg_budget``) and the halt was kept in a file with the server right
    there, the account's other desks trading on (review30a)."""
    db = session.audit.db
    message = lost_message(db, exc)
    session.audit.abandon()
    halt = session.risk.halt(SESSION_ERROR, 0.0, 0.0, message)
    session.tell_unrecorded(halt)
    cancel = cancel_on_lost_store(session, message)  # at once: not after the reconnect tries
    said, unchecked = cancel.said, cancel.unchecked
    until = time.monotonic() + RECONNECT_WITHIN
    with answering_by(db, until):  # every wait for the server ends by then (pg_budget)
        reached = reconnect(db, patient=True, stop=stop, until=until)
        if reached:  # the halt first: a broker slow to say the exits left cost it (review30a)
            said = _record_halt_and_end(session, halt, message, said, (until, stop))
        left = _stops_down(session, "", exits=True, record=reached, unchecked=unchecked)
    if not reached:  # the server still gone: the halt waits on disk for the next start
        said = keep_unwritten_halt(session, said)
    said += left  # the one line on stderr names each position left without its exit
    session.tell_end("failed", said)
    return RunResult("failed", session.iteration, said, audit_failed=True)


def _stops_down(
    session: TradingSession,
    message: str,
    exits: bool = False,
    record: bool = False,
    unchecked: str = "",
) -> str:
    """A session ended on its store's failure puts no exit back (a stop sent without its row
    would break the audit trail; a row ended under it means another desk keeps the account):
    each position whose exit it had cancelled is said to be maybe without it, in the end lines
    and in the end's notice (returned: ``message`` with those lines). ``exits``: its own store
    failed (no other desk took the account over), so a desk that keeps exits also names each
    position no exit at the broker covers, read from the broker alone: a buy filled just
    before the failure, its stop not placed yet, was left exposed and unnamed. Not on a
    simulated account: it ends with the session, no position outlives it, and there is no
    broker to look at (its end lines sent the trader there). ``record``:
    the store answers again, so the lines are written to the audit trail too (best effort).
    ``unchecked``: why the lost store's cancel just failed (``LostStoreCancel.unchecked``:
    the broker's silence, or another error named as what it is): the positions are not read
    (that read waited out the same silence again: 50 s at the default 10 s timeout), and one
    line says they could not be checked, and why. The read holds the heartbeat off: the store
    it would write is the lost one."""
    lines = session.stops_down(could_not=STORE_FAILED)
    exits = exits and not getattr(session.broker, "orders_end_with_session", False)
    if exits and session.protects and unchecked:
        lines.append(
            f"the positions could not be checked for their exits ({unchecked}); {STORE_FAILED}"
        )
    elif exits:
        said = {line.split(" ", 1)[0].rstrip(":") for line in lines}
        try:
            with beating(lambda: None):
                lines += session.exits_left(said, STORE_FAILED, store=False)
        except Exception as exc:  # the end goes on: it says the positions went unchecked
            lines.append(
                f"the positions could not be checked for their exits ({exc}); {STORE_FAILED}"
            )
    session.stops_left = tuple(lines)
    if record and lines:
        _record_left(session, lines)
    return "; ".join([message, *lines])


def _record_left(session: TradingSession, lines: list[str]) -> None:
    """Write each position left without its exit as a ``stop_left_down`` risk event, once the
    store answers again (one commit; nothing if it fails again: the end lines said it)."""
    now = session.clock.now()
    try:
        with session.audit.together():
            for line in lines:
                symbol = line.split(" ", 1)[0].rstrip(":")
                named = symbol if symbol.isupper() else None  # a line about every position
                event = RiskEvent(LEFT_DOWN, 0.0, 0.0, line, symbol=named)
                session.audit.risk_event(event, session.account_key, now)
    except Exception:
        session.audit.abandon()


def _record_halt_and_end(
    session: TradingSession,
    halt: RiskEvent,
    message: str,
    said: str,
    patience: tuple[float, threading.Event | None] | None = None,
) -> str:
    """One attempt to write the halt and the session's end (``failed``) after the store
    failed; if it fails again (still locked, gone again), the halt is kept on disk for the
    account's next start (``keep_unwritten_halt``) and the session's stale heartbeat will
    mark it dead. The halt's event and the account's halted risk state go in one commit: the
    event says trading halted until reset, and so does the account's row the next start reads.
    Before, only the event was written, and once the store was back the next start traded.
    Returns ``said`` (the end's line), with where the halt was kept if it was.
    ``patience`` (a lost PostgreSQL store: the monotonic time the tries end, and what cuts
    them short): a write that loses the connection again is tried again on a new one until
    then (``_write_halt_patiently``)."""
    audit = session.audit
    try:
        if patience is None:
            write_halt(session, halt, message)
        else:
            _write_halt_patiently(session, halt, message, *patience)
    except Exception:  # the session's end may still fit (it changes a row, adds none)
        audit.abandon()
        said = keep_unwritten_halt(session, said)
    try:
        audit.end_session("failed", session.iteration)
    except Exception:
        audit.abandon()
    return said


def write_halt(session: TradingSession, halt: RiskEvent, message: str) -> None:
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


def _write_halt_patiently(
    session: TradingSession,
    halt: RiskEvent,
    message: str,
    until: float,
    stop: threading.Event | None,
) -> None:
    """``write_halt``, tried again on a new connection each time the server ends the one it
    runs on, until ``until`` (monotonic) or ``stop``; raises the last failure. Before, one
    try: a server that ended the desk's new connection too (an administrator ending every
    backend, a failover flapping, a restart beginning just after the desk got in) left the
    halt in a file on this machine only, the account's row ``active`` and its other desks
    trading, with most of the 30 s unused. A commit whose answer was lost is found by its
    event and not written twice. Every wait for the server ends by ``until``
    (``store.pg_budget.answering_by``, set by ``end_on_lost_store``): a write that waits on a
    backend frozen with the account's row, or a connection opened just before the end and
    its look-up and write, each up to its own deadline, ran up to about a minute past the
    30 s before the desk said the halt was kept in a file (halts30). The look-up is tried as
    the write is: a server ending the connection as the desk looked gave up the tries there
    (review29d)."""
    db = session.audit.db
    tried = False  # a try was lost: its commit may have landed
    while True:
        state = session.risk.state
        try:
            if not (tried and _halt_landed(session, halt, message)):
                write_halt(session, halt, message)
            return
        except Exception as exc:
            # The merge's result went with the lost commit: merged again, it would count the
            # orders other desks took since the desk's last read a second time (review29d).
            session.risk.state = state
            session.audit.abandon()
            if not store_lost(db, exc) or time.monotonic() >= until:
                raise
            if not reconnect(db, patient=True, stop=stop, until=until):
                raise
            tried = True


def _halt_landed(session: TradingSession, halt: RiskEvent, message: str) -> bool:
    """True if the store holds this session's halt event for ``message`` (its commit landed,
    its answer lost): the account's halted row went in the same commit."""
    own = session.audit.session
    if own is None:
        return False
    found = RiskEventRow.select().where(
        (RiskEventRow.session == own.id)
        & (RiskEventRow.event_type == halt.event_type)
        & (RiskEventRow.detail == message)
    )
    return found.exists()
