"""PostgreSQL: a desk that lost its store and reached the server again writes its halt first,
before it reads the broker for the positions left without their exits.

The desk's end on a lost store (``session.store_endings.end_on_lost_store``) tries its halt for
30 s, and since halts30 every wait for the server ends by then (``store.pg_budget``). But the
end read the broker first (which positions no exit covers: words for the trader) and wrote the
halt after it, within what was left: a broker slow to answer that read (a network that just
lost the store is slow to the broker too; a request budget spent on the lost store's cancels)
spent the 30 s, and the halt was refused with the server right there: kept in a file on this
machine only, the account's row ``active``, its other desks trading on. Before halts30 the
halt's write had its own statement deadline and was written late. Now the halt is written as
soon as the server answers again, and the broker is read after it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import Flipper, make_session
from tests.pg_cluster import PgCluster
from tui_trader.core.domain import IterationReport
from tui_trader.session import store_endings
from tui_trader.session.runner import SessionRunner
from tui_trader.store.pg_url import parse_db_url

ACCOUNT = "alpaca:PA-halt-first"
BUDGET = 3.0
"""Seconds the desk is given to write its halt (30 s in use)."""


def test_a_broker_slow_to_say_the_exits_left_does_not_cost_the_halt(
    pg_cluster: PgCluster,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(store_endings, "RECONNECT_WITHIN", BUDGET)
    store = parse_db_url(pg_url)
    database_name = pg_url.rsplit("/", 1)[1]
    session = make_session(
        store, commit_before_send=True, strategies=[Flipper()], account_key=ACCOUNT
    )
    db = session.audit.db
    # a broker whose orders outlive the desk (Alpaca's), slow to answer the exits' read: it
    # answers once the desk's 30 s (here 3 s) for its halt are spent
    session.broker.orders_end_with_session = False  # type: ignore[misc]
    read: list[float] = []

    def slow_exits_left(*_args: object, **_kwargs: object) -> list[str]:
        pause, deadline = threading.Event(), time.monotonic() + BUDGET + 10.0
        while db.answer_by.at is not None and db.answer_by.left() > 0:
            assert time.monotonic() < deadline, "the budget never ran out"
            pause.wait(0.05)
        read.append(time.monotonic())
        return ["SPY: 10 shares without their stop at the broker"]

    monkeypatch.setattr(session, "exits_left", slow_exits_left)
    lost: list[float] = []

    def lose_the_store(report: IterationReport) -> None:
        """At the second cycle: the desk's backend is ended (the server stays up)."""
        if report.iteration != 2 or lost:
            return
        (pid,) = db.execute_sql("SELECT pg_backend_pid()").fetchone()
        pg_cluster.admin(f"SELECT pg_terminate_backend({pid})", database_name)
        lost.append(time.monotonic())

    result = SessionRunner(session, iterations=8, on_report=lose_the_store).run()
    assert lost and read, (lost, read, result)
    assert result.status == "failed" and result.audit_failed, result
    assert "is kept in" not in (result.error or ""), result.error
    with psycopg.connect(pg_cluster.url(database_name, password=True)) as check:
        (state,) = check.execute(
            'SELECT "state" FROM "risk_state" WHERE "account_key" = %s', (ACCOUNT,)
        ).fetchone()
    assert state == "halted", "the server answered, and the account's row was left trading"
