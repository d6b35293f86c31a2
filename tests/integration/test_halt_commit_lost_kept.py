"""A halt whose own commit failed is still written on the account by the failure's halt.

A desk writes a halt (the kill switch, a drawdown trip) in one commit with the account's halted
risk state: a transaction of its own on a broker that outlives the desk, the cycle's locally.
When the store fails in that very commit (the PostgreSQL server lost at its ``COMMIT``, a disk
I/O error as SQLite writes it), the transaction rolls back and the session ends on the store's
failure, with one more attempt to write its halt (``session.runner._record_halt_and_end``).
That attempt wrote the event ("halted trading until reset") but not the halted state: the
session still believed the account's row was halted as the rolled-back commit had left it, so
nothing looked changed. The row stayed active and the next start on the account traded.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import peewee
import pytest

from tests.conftest import Flipper, make_session
from tui_trader.core.domain import IterationReport
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.risk.state import RiskState
from tui_trader.session.runner import SESSION_ERROR, SessionRunner
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.risk_rows import AccountRiskRows
from tui_trader.store.statements import load_risk_state

ACCOUNT = "alpaca:PA-halt-commit-lost"


def _fail_the_commit(db: Any) -> None:
    """The store fails before the open transaction commits: the server ends the connection
    (PostgreSQL), a disk I/O error (SQLite, as a file-size limit or a quota gives at commit)."""
    if getattr(db, "is_postgres", False):
        db.execute_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        return
    try:
        with peewee.__exception_wrapper__:
            raise sqlite3.OperationalError("disk I/O error")
    except peewee.DatabaseError as wrapped:
        raise wrapped from None


@pytest.mark.parametrize("remote", [False, True], ids=["local-cycle", "rows-one-by-one"])
def test_a_halt_whose_commit_failed_leaves_the_account_halted(
    remote: bool, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = AccountRiskRows.save_risk_state
    failed: list[RiskState] = []

    def failing_once(self: AccountRiskRows, state: RiskState) -> RiskState:
        """The kill's halt is merged into the account's row, then its commit fails (once)."""
        merged = saved(self, state)
        if merged.halted and not failed and self.db.in_transaction():
            failed.append(merged)
            _fail_the_commit(self.db)
        return merged

    with monkeypatch.context() as patched:  # the next start runs the real code
        patched.setattr(AccountRiskRows, "save_risk_state", failing_once)
        session = make_session(
            store, commit_before_send=remote, strategies=[Flipper()], account_key=ACCOUNT
        )

        def kill_after_the_second(report: IterationReport) -> None:
            """ctrl+k pressed once the second cycle's rows are committed."""
            if report.iteration == 2:
                session.request_kill("user")

        result = SessionRunner(session, iterations=5, on_report=kill_after_the_second).run()
    assert failed, "the kill's halt was not written inside a transaction"
    assert result.status == "failed" and result.audit_failed, result
    session.audit.db.close()

    following = make_session(
        store, commit_before_send=remote, strategies=[Flipper()], account_key=ACCOUNT
    )
    database.initialize(following.audit.db)
    halts = RiskEventRow.select().where(RiskEventRow.event_type == SESSION_ERROR)
    assert [row.action_taken.startswith("halted trading until reset") for row in halts] == [True]
    state = load_risk_state(ACCOUNT)
    assert state.halted, "the event says halted, the account's row does not"
    assert state.halt_reason == MANUAL_KILL  # the first halt stands, as the session held it
    report = following.run_iteration()
    assert report is not None and report.orders_sent == 0, "the next start traded"
    following.audit.db.close()
