"""A session stopped by a generic failure leaves its account halted, as its event says.

A cycle that fails for a reason that is not the store's (a bug, a broker's unexpected answer)
halts trading: the runner writes a ``session_error`` event saying "halted trading until reset"
and ends the session. The account's halted risk state used to wait for the session's end, a
second commit: a process killed between the two left the event with the account active, and
the next start on the account traded. Now the event and the halted state commit together.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Flipper, make_session
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.session.runner import SESSION_ERROR, SessionRunner
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.statements import load_risk_state

ACCOUNT = "alpaca:PA-generic-failure"


class Killed(BaseException):
    """The process dies here (kill -9, a power cut): nothing after this point runs."""


@pytest.mark.parametrize("remote", [False, True], ids=["local-cycle", "rows-one-by-one"])
def test_a_failure_s_halt_survives_a_kill_before_the_session_s_end(
    remote: bool, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = SessionRecords._snapshot

    def failing_at_the_third(self: TradingSession, *args: object) -> None:
        """A bug trips as the third cycle writes its snapshot."""
        if self.iteration == 3:
            raise RuntimeError("an unexpected answer")
        snapshot(self, *args)

    def killed(self: TradingSession, *args: object) -> None:
        """The process is killed as the session starts writing its end."""
        raise Killed()

    with monkeypatch.context() as patched:  # the next start runs the real code
        patched.setattr(SessionRecords, "_snapshot", failing_at_the_third)
        patched.setattr(TradingSession, "finish", killed)
        session = make_session(
            store, commit_before_send=remote, strategies=[Flipper()], account_key=ACCOUNT
        )
        with pytest.raises(Killed):
            SessionRunner(session, iterations=10).run()
    session.audit.abandon()  # what a dead process's connection holds uncommitted is lost
    session.audit.db.close()

    following = make_session(
        store, commit_before_send=remote, strategies=[Flipper()], account_key=ACCOUNT
    )
    database.initialize(following.audit.db)
    halts = RiskEventRow.select().where(RiskEventRow.event_type == SESSION_ERROR)
    assert [row.action_taken for row in halts] == ["halted trading until reset"]
    state = load_risk_state(ACCOUNT)
    assert (state.halted, state.halt_reason) == (True, SESSION_ERROR), (
        "the event says halted, the account's row does not"
    )
    report = following.run_iteration()
    assert report is not None and report.orders_sent == 0, "the next start traded"
    following.audit.db.close()
