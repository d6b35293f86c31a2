"""PostgreSQL: a server that stops answering, and a desk frozen inside a transaction.

A server's backend stopped (SIGSTOP: what a frozen machine, a stalled server or a network that
drops packets looks like from the client): the session's next statement waited for the answer
for ever, the desk hung mid-cycle, silent, until killed. Every wait for the server now has a
deadline (``store.pg_deadline``); past it the session stops as on a lost store, in one line.

A desk frozen inside a transaction (SIGSTOP, a suspended laptop) holds its account's risk-state
row: the fleet's kill switch for that account waited on the row for as long as the desk stayed
frozen. The server now ends a connection idle in a transaction after a while
(``store.pg.IDLE_IN_TRANSACTION``), which frees the row: the halt goes through.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest

from tui_trader.cli import main
from tui_trader.core.clock import WallClock
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.risk.state import RiskState
from tui_trader.store import pg, pg_deadline
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import RiskStateRow, database
from tui_trader.store.pg import store_lost
from tui_trader.store.pg_url import parse_db_url

GIVE_UP = 60.0
"""Seconds the test waits for the session to end (it hung for good before)."""


def test_a_server_that_stops_answering_ends_the_session_in_one_line(
    pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: the session never ended (still waiting after 60 s). Now: the statement gives
    up at the deadline, and the session halts and exits 1 with the lost store's line."""
    monkeypatch.setattr(pg_deadline, "STATEMENT_DEADLINE", 1.0)
    snapshot = SessionRecords._snapshot
    stopped: list[int] = []

    def stop_the_server_after_three(self: TradingSession, *args: Any) -> None:
        """Once the third cycle's snapshot is written, the session's backend stops."""
        snapshot(self, *args)
        if self.iteration == 3 and not stopped:
            pid = int(database.obj.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)

    monkeypatch.setattr(SessionRecords, "_snapshot", stop_the_server_after_three)
    ended = threading.Event()
    hung: list[bool] = []

    def give_up() -> None:
        """A session still waiting after ``GIVE_UP`` s: say so, and let the server go on."""
        if not ended.wait(GIVE_UP):
            hung.append(True)
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)

    watchdog = threading.Thread(target=give_up, daemon=True)
    watchdog.start()
    try:
        code = main(["paper", "--iterations", "40", "--db", pg_url])
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        ended.set()
        watchdog.join()
        if not hung:
            for pid in stopped:
                os.kill(pid, signal.SIGCONT)
        database.obj.close()
    assert stopped, "the session never reached its third cycle"
    assert not hung, f"the session still waited for the server after {GIVE_UP:g} s"
    out, err = capsys.readouterr()
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tui-trader: error: lost the audit store ")
    assert "(the server did not answer within 1 s; connection closed): trading halted" in lines[0]
    assert "Traceback" not in out + err
    assert not any(line.startswith("iter=5 ") for line in out.splitlines())


def test_a_desk_frozen_inside_a_transaction_does_not_block_the_fleets_halt(
    pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A desk holds its account's risk-state row in an open transaction and goes silent (as
    a process stopped mid-cycle does). Before: ``fleet halt`` waited for the row for as long
    as the desk stayed frozen (still waiting after 60 s). Now the server ends the frozen
    connection after ``IDLE_IN_TRANSACTION`` (1 s here), the halt is written, exit 0, and the
    desk, when it wakes, finds its connection lost (it stops as on a lost store)."""
    monkeypatch.setattr(pg, "IDLE_IN_TRANSACTION", 1.0)
    desk = open_database(parse_db_url(pg_url))
    audit = AuditLog(desk, WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    audit.save_risk_state(RiskState(account_key=row.account_key, last_equity=100_000.0))
    desk.begin()  # the frozen desk: the row locked, the transaction left open
    desk.execute_sql(
        'UPDATE "risk_state" SET "version" = "version" + 1 WHERE "account_key" = ?',
        (row.account_key,),
    )
    backend = int(desk.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
    ended = threading.Event()
    hung: list[bool] = []

    def give_up() -> None:
        """A halt still waiting after ``GIVE_UP`` s: say so, and end the frozen desk's
        connection so that the halt can finish."""
        if not ended.wait(GIVE_UP):
            hung.append(True)
            pg_cluster_terminate(pg_url, backend)

    watchdog = threading.Thread(target=give_up, daemon=True)
    watchdog.start()
    try:
        code = main(["fleet", "halt", "--all", "--yes", "--db", pg_url])
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        ended.set()
        watchdog.join()
    assert not hung, f"the halt still waited for the frozen desk's row after {GIVE_UP:g} s"
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{row.account_key}: HALTED (1 session(s))" in out
    database.obj.close()
    with pytest.raises(Exception) as woke:  # the desk wakes: its connection is gone
        desk.execute_sql("SELECT 1")
    assert store_lost(desk, woke.value)
    desk.close()
    check = open_database(parse_db_url(pg_url))
    try:
        state = RiskStateRow.get(RiskStateRow.account_key == row.account_key)
        assert (state.state, state.halt_reason) == ("halted", "manual_kill")
    finally:
        check.close()


def pg_cluster_terminate(url: str, backend: int) -> None:
    """End ``backend``'s connection, as the trader (its owner may end it)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (backend,))
