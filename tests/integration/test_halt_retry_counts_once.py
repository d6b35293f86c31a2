"""PostgreSQL: a desk's halt tried again after its first commit was lost merges the
account's row once, and a look-up for it that loses the connection is tried again too.

A desk whose store was lost writes its halt on a fresh connection, and tries again while its
30 s last (``session.store_endings._write_halt_patiently``, pg29). The write merges the desk's
risk state into the account's shared row: the orders other desks counted since the desk last
read it are taken from the row. When the server ended the connection at that commit (the
commit not landed), the merged state stayed the desk's, and the next try merged it again, as
if the desk itself had sent those orders: the account's order count grew by the other desks'
orders a second time, and after ``risk reset`` the day's order limit came that much sooner.
And a server that ended the connection again as the desk looked for its halt (had the lost
commit landed?) made the desk give up there, as pg29 had stopped it doing for the write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Flipper, make_session
from tests.pg_cluster import PgCluster
from tui_trader.core.domain import IterationReport
from tui_trader.session import store_endings
from tui_trader.session.runner import SESSION_ERROR, SessionRunner
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.pg_url import parse_db_url
from tui_trader.store.statements import load_risk_state

ACCOUNT = "alpaca:PA-halt-merged-once"
OTHERS = 2
"""Orders another desk of the account counted while this desk ran."""


def test_a_halt_whose_commit_was_lost_counts_other_desks_orders_once(
    pg_cluster: PgCluster,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another desk counts 2 orders on the account's row; this desk's backend is ended, and
    ended again at the commit of its halt's first write. The halt lands on the next try, and
    the row's order count is what it was (the 2 counted once), not 2 more."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = parse_db_url(pg_url)
    database_name = pg_url.rsplit("/", 1)[1]
    real = store_endings.write_halt
    ended: list[int] = []
    counted: list[int] = []

    def end_the_connection(db: Any) -> None:
        (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
        pg_cluster.admin(f"SELECT pg_terminate_backend({pid})", database_name)
        ended.append(pid)

    def losing_at_commit(session: Any, halt: Any, message: str) -> None:
        """The first write after the reconnect: the server ends the connection once the
        account's row is merged, before the commit."""
        audit = session.audit
        if len(ended) == 1:
            merge = audit.save_risk_state

            def merged_then_lost(state: Any) -> Any:
                out = merge(state)
                end_the_connection(audit.db)
                return out

            monkeypatch.setattr(audit, "save_risk_state", merged_then_lost)
            try:
                real(session, halt, message)
            finally:
                monkeypatch.setattr(audit, "save_risk_state", merge)
        real(session, halt, message)

    monkeypatch.setattr(store_endings, "write_halt", losing_at_commit)
    session = make_session(
        store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )

    def lose_the_store(report: IterationReport) -> None:
        if report.iteration == 2 and not ended:
            bump = f"UPDATE risk_state SET orders_today = orders_today + {OTHERS}"
            pg_cluster.admin(f"{bump} WHERE account_key = '{ACCOUNT}'", database_name)
            [(count,)] = pg_cluster.admin(
                f"SELECT orders_today FROM risk_state WHERE account_key = '{ACCOUNT}'",
                database_name,
            )
            counted.append(int(count))
            end_the_connection(session.audit.db)

    result = SessionRunner(session, iterations=8, on_report=lose_the_store).run()
    assert len(ended) == 2, "the store was not lost twice"
    assert result.status == "failed" and "is kept in" not in (result.error or ""), result
    session.audit.db.close()

    following = make_session(store, strategies=[Flipper()], account_key=ACCOUNT)
    try:
        database.initialize(following.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, SESSION_ERROR), state
        assert state.orders_today == counted[0], (state.orders_today, counted)
    finally:
        following.audit.db.close()


@pytest.mark.parametrize("landed", [False, True], ids=["write-lost", "answer-lost"])
def test_a_halt_whose_look_up_loses_the_store_again_is_still_tried(
    landed: bool,
    pg_cluster: PgCluster,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The desk's backend is ended, then its halt's first write on the new connection loses
    the connection (``write-lost``: before its commit; ``answer-lost``: just after it), then
    the server ends the connection again as the desk looks for that halt. Before: the desk
    gave up there, seconds into its 30 s, the halt kept in a file on its machine (with
    ``write-lost`` the account's row ``active``: its desks elsewhere traded on). Now: the
    look-up is tried again on a fresh connection: the row ``halted``, one halt event, no
    file."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = parse_db_url(pg_url)
    database_name = pg_url.rsplit("/", 1)[1]
    real_write, real_look = store_endings.write_halt, store_endings._halt_landed
    ended: list[int] = []

    def end_the_connection(db: Any) -> None:
        (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
        pg_cluster.admin(f"SELECT pg_terminate_backend({pid})", database_name)
        ended.append(pid)

    def answer_lost(session: Any, halt: Any, message: str) -> None:
        if len(ended) == 1:
            if landed:
                real_write(session, halt, message)
            end_the_connection(session.audit.db)
            session.audit.db.execute_sql("SELECT 1")  # the desk notices (raises)
        real_write(session, halt, message)

    def look_up_lost(session: Any, halt: Any, message: str) -> bool:
        if len(ended) == 2:
            end_the_connection(session.audit.db)
        return real_look(session, halt, message)

    monkeypatch.setattr(store_endings, "write_halt", answer_lost)
    monkeypatch.setattr(store_endings, "_halt_landed", look_up_lost)
    session = make_session(
        store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    session_id = session.audit.session.id

    def lose_the_store(report: IterationReport) -> None:
        if report.iteration == 2 and not ended:
            end_the_connection(session.audit.db)

    result = SessionRunner(session, iterations=8, on_report=lose_the_store).run()
    assert len(ended) == 3, "the store was not lost three times"
    assert result.status == "failed" and "is kept in" not in (result.error or ""), result
    session.audit.db.close()

    following = make_session(store, strategies=[Flipper()], account_key=ACCOUNT)
    try:
        database.initialize(following.audit.db)
        state = load_risk_state(ACCOUNT)
        assert (state.halted, state.halt_reason) == (True, SESSION_ERROR), state
        halts = RiskEventRow.select().where(
            (RiskEventRow.session == session_id) & (RiskEventRow.event_type == SESSION_ERROR)
        )
        assert halts.count() == 1, [e.detail for e in halts]
    finally:
        following.audit.db.close()
