"""A heartbeat written while a request blocks never holds the request past its deadline.

While a request blocks the session's thread, the request's watchdog writes the session's
heartbeat for it (``brokers.request_deadline``, ``store.session_rows``). Before, that heartbeat
waited for a busy store as long as SQLite's busy timeout (10 s), on the watchdog's only thread,
holding the request: with another connection holding the store's write lock (another desk's
transaction, a hand-run ``sqlite3``), a trickled answer under a 2-s deadline was cut after 11 s.
Now the heartbeat waits only until the first deadline of any request in flight (two desks in
one process, as ``serve`` runs them, share the watchdog: one desk's heartbeat held the other's
cut back too), and a store that is free again gets its heartbeat as before. Real alpaca-py
against the sandbox, a real SQLite file, the process's own watchdog on the real clock.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from tests.conftest import make_session
from tests.integration.alpaca_helpers import endpoint_for
from tests.integration.test_request_deadline import TRICKLE, _within
from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.brokers.alpaca_calls import CallPolicy
from tui_trader.brokers.request_deadline import watchdog
from tui_trader.core.waiting import beating
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import SessionRow

DEADLINE = 2.0
"""The request's deadline: longer than a second, so the watchdog beats during it."""


def _desk_reading(sandbox: SandboxHandle, session: TradingSession, deadline: float) -> Any:
    """A call reading the account on the calling thread (the session's), under ``deadline``,
    the session's heartbeat lent as the runner lends it."""
    audit = session.audit
    policy = CallPolicy(timeout=deadline, retries=0)
    broker = AlpacaBroker(
        endpoint_for(sandbox), policy, use_stream=False, require_open_market=False
    )

    def account() -> Any:
        with beating(audit.beat_waiting, audit.beat_aside):
            return broker.account()

    return account


def test_a_heartbeat_meeting_a_busy_store_does_not_hold_the_request_past_its_deadline(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    session = make_session(db, commit_before_send=True)
    audit = session.audit
    assert audit.session is not None
    account = _desk_reading(sandbox, session, DEADLINE)

    other = sqlite3.connect(db)
    other.execute("BEGIN IMMEDIATE")  # another connection holds the store's write lock
    sandbox.admin.set_faults(trickle=TRICKLE)
    try:
        took, failed = _within(30, account)
    finally:
        other.rollback()
        other.close()

    assert isinstance(failed, BrokerError), failed
    assert f"no complete answer within {DEADLINE:g} s" in str(failed)
    assert took < DEADLINE + 3, f"a {DEADLINE:g}-s request took {took:.1f} s"  # before: 11 s

    # the store free again: a request over a second long still gets its heartbeat from aside
    sandbox.admin.set_faults(trickle=0, latency=1.5)
    before = SessionRow.get_by_id(audit.session.id).heartbeat_at
    took, answered = _within(30, account)
    assert not isinstance(answered, Exception), answered
    after = SessionRow.get_by_id(audit.session.id).heartbeat_at
    assert after > before, "no heartbeat was written while the request blocked"
    audit.db.close()


def test_one_desk_s_heartbeat_on_a_busy_store_does_not_hold_another_desk_s_request(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Two desks in one process on one store: the first's request has a longer deadline than
    the second's. Before, the first's heartbeat waited for the busy store (its own request's
    time, or SQLite's 10 s) and the second desk's request, cut only after it, ended at 6 s
    (at 11 s before either fix) instead of its 2 s."""
    db = tmp_path / "desk.db"
    slow = _desk_reading(sandbox, make_session(db, commit_before_send=True), 3 * DEADLINE)
    quick = _desk_reading(sandbox, make_session(db, commit_before_send=True), DEADLINE)
    other = sqlite3.connect(db)
    other.execute("BEGIN IMMEDIATE")  # another connection holds the store's write lock
    sandbox.admin.set_faults(trickle=TRICKLE)
    first = threading.Thread(target=lambda: _within(30, slow), daemon=True)
    try:
        first.start()
        wait_until(lambda: watchdog().in_flight() == 1, what="the first desk's request")
        took, failed = _within(30, quick)
        first.join(30)
    finally:
        other.rollback()
        other.close()

    assert isinstance(failed, BrokerError), failed
    assert f"no complete answer within {DEADLINE:g} s" in str(failed)
    assert took < DEADLINE + 2, f"a {DEADLINE:g}-s request took {took:.1f} s"
