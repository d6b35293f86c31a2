"""PostgreSQL: a desk whose store was lost keeps trying to write its halt for the whole of
``store.pg.RECONNECT_WITHIN``, not once.

A desk whose connection the server ended (``pg_terminate_backend``, a restart, a failover)
halts, reaches the server again and writes the halt on the account's shared row, so that
every desk of the account, on every machine, stops. When the server ended that new connection
too (an administrator's script ending every ``tui-trader`` backend, a failover flapping, a
restart beginning just after the desk got in), the desk gave up at once, seconds inside its
30 s: the halt went into a file on its own machine, the account's row stayed ``active``, and
the account's other desks traded on (found by the pg29 campaign: 2 of 5 desks, each alone on
its machine, while an administrator ended every backend for 6 s). Now the write is tried
again while the 30 s last; a commit that landed with its answer lost is not written twice.
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
from tui_trader.store.halt_markers import find_markers
from tui_trader.store.models import RiskEventRow, SessionRow, database
from tui_trader.store.pg_url import parse_db_url
from tui_trader.store.statements import load_risk_state

ACCOUNT = "alpaca:PA-halt-retried"


@pytest.mark.parametrize("landed", [False, True], ids=["write-lost", "answer-lost"])
def test_the_halt_is_written_when_its_first_write_loses_the_store_again(
    landed: bool,
    pg_cluster: PgCluster,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The desk's backend is ended mid-session; the server ends the desk's next connection
    too, as the halt is written (``write-lost``: before its commit; ``answer-lost``: just
    after it). Before: the halt kept only in a file on the desk's machine, the account's row
    ``active``. Now: the row ``halted`` (``session_error``), one halt event, the session
    ``failed``, no file left behind."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    store = parse_db_url(pg_url)
    database_name = pg_url.rsplit("/", 1)[1]
    real = store_endings.write_halt
    ended: list[int] = []

    def end_the_connection(db: Any) -> None:
        (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
        pg_cluster.admin(f"SELECT pg_terminate_backend({pid})", database_name)
        ended.append(pid)

    def losing_once(session: Any, halt: Any, message: str) -> None:
        """The first write after the reconnect: the server ends the connection again."""
        if len(ended) == 1:
            if landed:
                real(session, halt, message)
            end_the_connection(session.audit.db)
            session.audit.db.execute_sql("SELECT 1")  # the desk notices (raises)
        real(session, halt, message)

    monkeypatch.setattr(store_endings, "write_halt", losing_once)
    session = make_session(
        store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    session_id = session.audit.session.id

    def lose_the_store(report: IterationReport) -> None:
        if report.iteration == 2 and not ended:
            end_the_connection(session.audit.db)

    result = SessionRunner(session, iterations=8, on_report=lose_the_store).run()
    assert len(ended) == 2, "the store was not lost twice"
    assert result.status == "failed" and result.audit_failed, result
    assert "is kept in" not in (result.error or ""), result.error
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
        assert SessionRow.get_by_id(session_id).status == "failed"
        assert find_markers(following.audit.db, ACCOUNT) == [], "the halt was left in a file"
    finally:
        following.audit.db.close()
