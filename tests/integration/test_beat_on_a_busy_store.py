"""A heartbeat written while a request blocks never holds the request past its deadline.

While a request blocks the session's thread, the request's watchdog writes the session's
heartbeat for it (``brokers.request_deadline``, ``store.session_rows``). Before, that heartbeat
waited for a busy store as long as SQLite's busy timeout (10 s), on the watchdog's only thread,
holding the request: with another connection holding the store's write lock (another desk's
transaction, a hand-run ``sqlite3``), a trickled answer under a 2-s deadline was cut after 11 s.
Now the heartbeat waits only until the request's deadline, and a store that is free again gets
its heartbeat as before. Real alpaca-py against the sandbox, a real SQLite file, the process's
own watchdog on the real clock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import make_session
from tests.integration.alpaca_helpers import endpoint_for
from tests.integration.test_request_deadline import TRICKLE, _within
from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.brokers.alpaca_calls import CallPolicy
from tui_trader.core.waiting import beating
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import SessionRow

DEADLINE = 2.0
"""The request's deadline: longer than a second, so the watchdog beats during it."""


def test_a_heartbeat_meeting_a_busy_store_does_not_hold_the_request_past_its_deadline(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    session = make_session(db, commit_before_send=True)
    audit = session.audit
    assert audit.session is not None
    policy = CallPolicy(timeout=DEADLINE, retries=0)
    broker = AlpacaBroker(
        endpoint_for(sandbox), policy, use_stream=False, require_open_market=False
    )

    def account() -> Any:
        """The account read on the session's thread, its heartbeat lent as the runner does."""
        with beating(audit.beat_waiting, audit.beat_aside):
            return broker.account()

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
