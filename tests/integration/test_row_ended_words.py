"""A session whose row was recorded ended under it says what it did, and only that.

A desk suspended past its heartbeat window may be recorded ``died`` by another desk, which
takes its account's orders over. Woken, it stops at once and writes a ``session_error`` event.
It deliberately leaves the account's risk state alone (halting it would stop the desk that
took over), but the event said "halted trading until reset": a report, the fleet screen or a
trader read the account as halted, while the account's row said active and the next start
traded. Now the event says the session stopped and the account is not halted.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import Flipper, file_rows, make_session
from tui_trader.core.domain import RiskEvent
from tui_trader.engine.notices import Notice
from tui_trader.session.runner import SESSION_ERROR, SessionRunner
from tui_trader.store import session_rows
from tui_trader.store.models import SessionRow, database
from tui_trader.store.statements import load_risk_state

ACCOUNT = "alpaca:PA-taken-over"


def test_a_desk_recorded_died_under_it_says_it_stopped_and_leaves_the_account_trading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.db"
    session = make_session(
        path, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    told: list[Notice] = []
    session.notify = told.append
    session.run_iteration()
    assert session.audit.session is not None
    row_id = session.audit.session.id
    # another desk found it dead while it was suspended and took the account over
    SessionRow.update(status="died").where(SessionRow.id == row_id).execute()
    woken = iter(range(int(time.monotonic()) + 3600, 10**12))  # each heartbeat due
    monkeypatch.setattr(session_rows, "_since_boot", lambda: next(woken))

    result = SessionRunner(session, iterations=5).run()
    session.audit.db.close()
    monkeypatch.undo()

    assert result.status == "failed" and result.error is not None
    [(event, action)] = file_rows(path, "SELECT event_type, action_taken FROM live_risk_events")
    assert event == SESSION_ERROR
    assert not RiskEvent(event, 0.0, 0.0, action).halts, f"the event says {action!r}"
    assert "not halted" in action, action
    said = [notice for notice in told if notice.event == SESSION_ERROR]
    assert [notice.action for notice in said] == [action], "the desk was not told so"

    following = make_session(
        path, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    database.initialize(following.audit.db)
    assert not load_risk_state(ACCOUNT).halted, "the account's row says halted"
    report = following.run_iteration()
    assert report is not None and report.halt == "", f"the next start is halted: {report.halt}"
    following.audit.db.close()
