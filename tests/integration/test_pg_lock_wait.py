"""PostgreSQL: a table of the store held locked by another connection (a ``psql`` session left
inside ``LOCK TABLE ... IN ACCESS EXCLUSIVE MODE``, a ``VACUUM FULL``, an ``ALTER TABLE``).

Before, the desk's next write waited for the lock until its 30 s deadline, then closed its
connection and stopped with ``lost the audit store ... (the server did not answer within 30
s; connection closed)``: the server had answered every time, and whoever read the line went
looking at the server instead of at the transaction holding the lock. Now the server gives up
the wait itself (``lock_timeout``, ``store.pg.LOCK_WAIT``) and the desk says the store stayed
locked by another connection, halts, and (the account's own rows being free) writes its halt
and its end (``failed``) on the same connection.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from tests.pg_cluster import PgCluster
from tui_trader.cli import main
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.store import pg, pg_deadline
from tui_trader.store.models import database

HOLD = 60.0
"""Seconds the other connection holds the lock at most (the test releases it sooner)."""


def test_a_table_locked_by_another_connection_is_said_as_a_lock_and_the_halt_is_kept(
    pg_cluster: PgCluster,
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another connection takes the account snapshots' table after the third cycle and keeps
    it. Before: 'the server did not answer within 5 s' (the deadline, shortened here). Now:
    one line naming the lock, exit 1, the account halted and the session ``failed``."""
    monkeypatch.setattr(pg, "LOCK_WAIT", 1.0, raising=False)
    monkeypatch.setattr(pg_deadline, "STATEMENT_DEADLINE", 5.0)
    database_name = pg_url.rsplit("/", 1)[1]
    snapshot = SessionRecords._snapshot
    taken = threading.Event()
    release = threading.Event()
    holders: list[threading.Thread] = []

    def hold_the_table() -> None:
        """``psql``: BEGIN; LOCK TABLE live_account_snapshots IN ACCESS EXCLUSIVE MODE; ..."""
        with psycopg.connect(pg_url) as other:  # a transaction, left open until released
            other.execute("LOCK TABLE live_account_snapshots IN ACCESS EXCLUSIVE MODE")
            taken.set()
            release.wait(HOLD)

    def lock_after_three(self: TradingSession, *args: Any) -> None:
        """Once the third cycle's snapshot is written, another connection asks for the lock
        (granted as soon as the desk's cycle commits)."""
        snapshot(self, *args)
        if self.iteration == 3 and not holders:
            holders.append(threading.Thread(target=hold_the_table, daemon=True))
            holders[0].start()

    monkeypatch.setattr(SessionRecords, "_snapshot", lock_after_three)
    try:
        code = main(["paper", "--iterations", "40", "--db", pg_url])
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        release.set()
        for holder in holders:
            holder.join()
        database.obj.close()
    assert taken.is_set(), "the other connection never took the lock"
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 1
    assert len(lines) == 1, err
    assert "did not answer" not in lines[0], lines[0]
    locked = f"the audit store {pg_url} stayed locked by another connection for more than 1 s"
    assert locked in lines[0], lines[0]
    assert "trading stopped, no order sent without its row" in lines[0]
    assert "Traceback" not in out + err
    rows = pg_cluster.rows(database_name, "SELECT state, halt_reason FROM risk_state")
    assert rows == [("halted", "session_error")]
    assert pg_cluster.rows(database_name, "SELECT status FROM sessions") == [("failed",)]


def test_a_report_on_a_locked_store_names_the_lock_not_an_unreachable_server(
    pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``status`` while another connection holds the snapshots' table (its opening of the
    store waits for it). Before: after the 30 s deadline, 'cannot open the database ...: the
    server did not answer', for a server that answered; now the lock, in one line."""
    monkeypatch.setattr(pg, "LOCK_WAIT", 1.0, raising=False)
    monkeypatch.setattr(pg_deadline, "STATEMENT_DEADLINE", 5.0)
    assert main(["paper", "--iterations", "2", "--db", pg_url]) == 0
    database.obj.close()
    capsys.readouterr()
    with psycopg.connect(pg_url) as other:
        other.execute("LOCK TABLE live_account_snapshots IN ACCESS EXCLUSIVE MODE")
        try:
            code = main(["status", "--db", pg_url])
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            if database.obj is not None:
                database.obj.close()
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "stayed locked by another connection for more than 1 s" in lines[0], lines[0]
    assert "cannot be reached" not in lines[0] and "crash.log" not in lines[0], lines[0]
    assert code == 2  # the store could not be opened, as a server that refuses the desk
    assert "Traceback" not in out
