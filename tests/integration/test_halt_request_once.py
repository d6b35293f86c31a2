"""``live monitor``'s kill switch whose write landed but whose answer was lost is one halt.

The monitor's halt writer tries again while the store does not answer (``tui.monitor_halt``).
A write whose commit landed and whose answer was lost (a PostgreSQL connection dropped after its
COMMIT, an SQLite error raised once the write was in) looked like a try that failed: the retry
wrote a second ``halt_requests`` row, the session took both, and the account's history showed
two ``manual_kill`` halts for one ctrl+k. The fault is injected in the monitor's own store
connection, after the real commit; the session is a real local one on the same store, on
SQLite and on a throwaway PostgreSQL server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_session
from tui_trader.core.domain import TradingState
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import wait_until
from tui_trader.store.models import HaltRequest, RiskEventRow, database
from tui_trader.store.peewee_names import OperationalError
from tui_trader.store.pg import is_postgres
from tui_trader.store.pg_url import PgUrl
from tui_trader.tui import monitor_halt
from tui_trader.tui.monitor import DbFollower
from tui_trader.tui.monitor_halt import HaltStatus
from tui_trader.tui.monitor_handle import MonitorHandle

DEADLINE = 30.0


def _answer_lost_once(db: Any) -> list[str]:
    """Make ``db`` lose the answer to its first write of a halt request once the write has
    landed (committed): a PostgreSQL connection dropped after the COMMIT, an SQLite error
    raised after it. Returns the list each loss is noted in."""
    lost: list[str] = []
    armed: list[bool] = []
    execute_sql, commit = db.execute_sql, db.commit

    def lose() -> None:
        lost.append("answer lost")
        if is_postgres(db):
            db._state.conn.close()  # the server's answer never comes: the connection is gone
            raise OperationalError("server closed the connection unexpectedly")
        raise OperationalError("disk I/O error")

    def execute(sql: str, *args: Any, **kwargs: Any) -> Any:
        cursor = execute_sql(sql, *args, **kwargs)
        if not lost and sql.lstrip().upper().startswith('INSERT INTO "HALT_REQUESTS"'):
            if db.in_transaction():
                armed.append(True)  # its answer is lost at the transaction's commit
            else:
                lose()  # the statement committed on its own
        return cursor

    def commit_then_lose() -> None:
        commit()
        if armed and not lost:
            lose()

    db.execute_sql = execute
    db.commit = commit_then_lose
    return lost


def test_a_kill_switch_whose_answer_was_lost_halts_once(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(monitor_halt, "RETRY_SECONDS", 0.05)
    session = make_session(store)
    session.run_iteration()
    follower = DbFollower(store, session.audit.session.key)  # type: ignore[arg-type]
    follower.open()
    lost = _answer_lost_once(follower.db)
    handle = MonitorHandle(follower)
    statuses: list[HaltStatus] = []
    try:
        handle.request_halt(False, statuses.append)
        wait_until(lambda: statuses and statuses[-1].written, DEADLINE, "the request written")
    finally:
        handle.halts.stop()
    assert lost == ["answer lost"]  # the first try landed, and was tried again
    follower.db.close()
    database.initialize(session.audit.db)  # the session's own process, as it runs elsewhere
    reports = [session.run_iteration() for _ in range(3)]
    assert reports[0].state is TradingState.HALTED
    halts = RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL)
    assert [row.detail for row in halts] == [
        "kill switch pressed by monitor: ctrl+k in the monitor"
    ]
    assert [e.event_type for r in reports for e in r.risk_events] == [MANUAL_KILL]
    assert HaltRequest.select().count() == 1  # one press, one request
