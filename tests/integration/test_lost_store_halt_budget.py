"""PostgreSQL: a desk that lost its store writes its halt, or says it kept it in a file, within
the 30 s it gives itself (``store.pg.RECONNECT_WITHIN``), not a statement deadline or more past.

The desk tries its halt again while the 30 s last (pg29), but each try's waits had their own
deadlines (a connect's 5 s, a statement's 30 s, the server's lock wait of 25 s), and they ran
past the 30 s: a write waiting on the account's row, locked by a frozen backend or a ``psql``
session left in a transaction, ended the desk up to about a minute after the loss, the halt
neither written nor kept meanwhile. Here the budget is cut to 3 s and the account's row is
locked as the desk reaches the server again: the desk keeps the halt in its file and ends
by the 3 s (a margin for a loaded machine), where it took the server's lock wait (25 s).
"""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import Flipper, make_session
from tests.pg_cluster import PgCluster
from tui_trader.core.domain import IterationReport
from tui_trader.session import store_endings
from tui_trader.session.runner import SessionRunner
from tui_trader.store.halt_markers import find_markers
from tui_trader.store.pg_url import parse_db_url

ACCOUNT = "alpaca:PA-halt-budget"
BUDGET = 3.0
"""Seconds the desk is given to write its halt (30 s in use)."""
MARGIN = 12.0
"""Seconds past the budget a loaded machine may add (before: the server's 25 s lock wait)."""


def test_a_halt_whose_write_waits_on_a_locked_row_ends_within_the_budget(
    pg_cluster: PgCluster,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The desk's backend is ended mid-session while another connection holds the account's
    risk row: the halt's write waits on it. The desk ends within its budget, saying the halt
    is kept in a file (and the file is there); before, it waited out the lock (25 s)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(store_endings, "RECONNECT_WITHIN", BUDGET)
    store = parse_db_url(pg_url)
    database_name = pg_url.rsplit("/", 1)[1]
    session = make_session(
        store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    holder = psycopg.connect(pg_cluster.url(database_name, password=True))
    lost: list[float] = []

    def lose_the_store(report: IterationReport) -> None:
        """At the second cycle: the account's row locked elsewhere, the desk's backend ended."""
        if report.iteration != 2 or lost:
            return
        locked = holder.execute(
            'SELECT 1 FROM "risk_state" WHERE "account_key" = %s FOR UPDATE', (ACCOUNT,)
        ).fetchall()
        assert locked, "the account's row is not there to lock"
        (pid,) = session.audit.db.execute_sql("SELECT pg_backend_pid()").fetchone()
        pg_cluster.admin(f"SELECT pg_terminate_backend({pid})", database_name)
        lost.append(time.monotonic())

    try:
        result = SessionRunner(session, iterations=8, on_report=lose_the_store).run()
        took = time.monotonic() - lost[0]
    finally:
        holder.close()  # the lock goes with it
    assert result.status == "failed" and result.audit_failed, result
    assert "is kept in" in (result.error or ""), result.error
    assert took < BUDGET + MARGIN, f"the halt's tries ended {took:.1f} s after the loss"
    session.audit.db.close()
    assert find_markers(session.audit.db, ACCOUNT), "no file keeps the halt"
