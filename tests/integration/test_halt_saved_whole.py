"""A halt's event row and the account's halted risk state are recorded together.

A session on a remote broker (Alpaca) commits its rows one by one. A halt was two commits: its
risk event row ("halted trading until reset"), then the account's risk state. A process killed
between them left the event saying the account was halted while the account's row said
``active``, and the next session on the account traded. Now both commit as one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Flipper, file_rows, make_session
from tui_trader.risk.state import RiskState
from tui_trader.store.audit import AuditLog


def test_a_kill_before_the_halted_state_is_written_leaves_no_halt_event_either(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the manual_kill event row was on disk and the account's row was 'active'."""
    session = make_session(db_path, commit_before_send=True, strategies=[Flipper()])
    for _ in range(3):
        session.run_iteration()
    save = AuditLog.save_risk_state

    def killed(self: AuditLog, state: RiskState) -> RiskState:
        """The process dies as the halted state is about to be written."""
        if state.halted:
            raise KeyboardInterrupt
        return save(self, state)

    monkeypatch.setattr(AuditLog, "save_risk_state", killed)
    session.request_kill()
    with pytest.raises(KeyboardInterrupt):
        session.run_iteration()
    session.audit.db.close()

    halts = file_rows(
        db_path, "SELECT event_type FROM live_risk_events WHERE action_taken LIKE 'halted%'"
    )
    states = file_rows(db_path, "SELECT state FROM risk_state")
    assert states == [("active",)], "the halt never reached the account's row"
    assert halts == [], "no halt event for an account left active"


def test_a_halt_writes_its_event_and_the_halted_state(db_path: Path) -> None:
    """The same halt, not interrupted: both are on disk."""
    session = make_session(db_path, commit_before_send=True, strategies=[Flipper()])
    session.run_iteration()
    session.request_kill()
    session.run_iteration()
    session.audit.db.close()
    assert file_rows(db_path, "SELECT state, halt_reason FROM risk_state") == [
        ("halted", "manual_kill")
    ]
    assert file_rows(db_path, "SELECT event_type FROM live_risk_events") == [("manual_kill",)]
