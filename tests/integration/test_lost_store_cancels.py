"""A desk that stops on its lost audit store cancels its working orders at the broker.

Its SQLite file replaced under it (a restore by hand), the desk stops at its next heartbeat,
sending nothing more (``test_db_file_replaced``). Before, it cancelled nothing: its limit buy
kept working at the broker, able to fill with no desk recording it, until a next start. Now
it cancels it (not its protective stop, which protects the shares held), says so in its end
line, and the next start on the store records the cancel. A desk whose row another desk
recorded ended cancels nothing: that desk took its orders over. Sandbox.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import file_rows
from tests.integration.alpaca_helpers import (
    alpaca_session,
    sandbox_view,
    settle,
    working_spy_limit,
)
from tests.integration.broker_protection import (
    buy_and_protect,
    client,
    open_stops,
    protected_spy_and_working_qqq_limit,
)
from tests.integration.ended_stop import limit_sell, spy_held
from tui_trader.brokers import BrokerError
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import LiveOrder, database
from tui_trader.store.pg_url import parse_db_url


def _replace(path: Path) -> None:
    """A copy of the database (every row it holds) moved over the path, as a restore does."""
    other = path.with_name("other.db")
    src, dst = sqlite3.connect(path), sqlite3.connect(other)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    os.replace(other, path)


def _delete(path: Path) -> None:
    """What ``rm desk.db*`` does."""
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)


def _unanswered(*args: object, **kwargs: object) -> object:
    """The broker does not answer the cancel (its retries spent)."""
    raise BrokerError("connection refused")


def _process_ended(db: Path) -> None:
    """The stopped desk's process ends (a command-line desk exits once stopped): its row, still
    ``running`` in the file that replaced its own, names a process that is gone."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE sessions SET pid = ? WHERE status = 'running'", (int(done.stdout),))
    conn.close()


def test_a_desk_whose_store_is_lost_cancels_its_limit_buy_and_keeps_its_stop(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The desk holds SPY under its ``--stop-loss 2`` stop and a limit buy of QQQ works; the
    database file is replaced. The desk stops: the limit buy is cancelled at the broker and
    the end line says so; the stop keeps working; the next start records the cancel."""
    db = tmp_path / "desk.db"
    settings = {"symbols": ("SPY", "QQQ"), "stop_loss": StopRule(pct=2.0)}
    session = alpaca_session(sandbox, db, **settings)
    try:
        stop, limit = protected_spy_and_working_qqq_limit(sandbox, session)
        _replace(db)
        sandbox.admin.step()
        result = SessionRunner(session, iterations=50).run()
        assert result.status == "failed" and result.audit_failed
        assert not sandbox_view(sandbox)[limit][0], "the limit buy kept working"
        assert [o.client_order_id for o in open_stops(sandbox)] == [stop.client_order_id], (
            "the lost store cancelled the protective stop"
        )
        assert result.error is not None and result.error.endswith(
            "; cancelled 1 working order(s) at the broker, not recorded: the audit store is "
            "lost; the next start records them"
        ), result.error
    finally:
        session.broker.close()
        database.obj.close()
    [(recorded,)] = file_rows(db, "SELECT status FROM live_orders WHERE client_order_id = ?", limit)
    assert recorded in ("pending_new", "new"), "the replaced file holds the buy as sent"
    _process_ended(db)
    again = alpaca_session(sandbox, db, **settings)  # the next start
    try:
        settle(sandbox, again)
    finally:
        again.broker.close()
        database.obj.close()
    rows = file_rows(db, "SELECT client_order_id, status FROM live_orders")
    statuses = dict(rows)
    assert len(statuses) == len(rows), f"an order recorded twice: {rows}"
    assert statuses[limit] == "canceled", "the next start did not record the cancel"
    assert statuses[stop.client_order_id] == "new", "the stop is working"
    assert set(statuses) == set(sandbox_view(sandbox)), "an order of the sandbox has no row"


def test_a_desk_whose_row_another_desk_ended_leaves_its_orders_working(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """Another desk's start recorded this one ``died`` (it was suspended) and took its orders
    over: this desk stops, and its limit buy keeps working, the other desk's now."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    try:
        limit = working_spy_limit(session, sandbox)
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE sessions SET status = 'died'")
        conn.close()
        sandbox.admin.step()  # one cycle: its row's end, if no heartbeat, finds it ended
        result = SessionRunner(session, iterations=session.iteration + 1).run()
        assert result.status == "failed" and result.audit_failed
        assert sandbox_view(sandbox)[limit][0], "the stopped desk cancelled another desk's order"
        assert "cancelled" not in (result.error or ""), result.error
    finally:
        session.broker.close()
        database.obj.close()


@pytest.mark.parametrize("answers", [True, False], ids=["broker-answers", "broker-silent"])
def test_a_desk_whose_database_is_deleted_cancels_its_limit_buy(
    sandbox: SandboxHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: bool
) -> None:
    """``rm desk.db*`` under a desk with a limit buy working: it stops, the buy is cancelled
    at the broker and its line says so; when the broker does not answer the cancel either,
    the line says the desk's orders may still be working there."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    try:
        limit = working_spy_limit(session, sandbox)
        _delete(db)
        if not answers:
            monkeypatch.setattr(session.broker, "cancel_all", _unanswered)
        sandbox.admin.step()
        result = SessionRunner(session, iterations=50).run()
        assert result.status == "failed" and result.audit_failed
        assert result.error is not None and "was deleted" in result.error, result.error
        if answers:
            assert not sandbox_view(sandbox)[limit][0], "the limit buy kept working"
            assert result.error.endswith(
                "; cancelled 1 working order(s) at the broker, not recorded: the audit store "
                "is lost; the next start records them"
            ), result.error
        else:
            assert sandbox_view(sandbox)[limit][0]
            assert result.error.endswith(
                "; the desk's working orders could not be cancelled at the broker "
                "(BrokerError): they may still be working there, not recorded; cancel them "
                "at the broker"
            ), result.error
    finally:
        session.broker.close()
        database.obj.close()


def test_a_desk_whose_postgresql_store_goes_away_cancels_its_limit_buy(
    sandbox: SandboxHandle, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server ends the desk's connection (a restart, ``pg_terminate_backend``) as a cycle
    writes: the desk stops, its limit buy is cancelled at the broker and its line says so;
    the next start records the cancel."""
    store = parse_db_url(pg_url)
    session = alpaca_session(sandbox, store)
    try:
        limit = working_spy_limit(session, sandbox)
        snapshot = SessionRecords._snapshot

        def terminated(self: TradingSession, *args: object) -> None:
            """The server ends the connection as this cycle writes its snapshot."""
            monkeypatch.setattr(SessionRecords, "_snapshot", snapshot)
            self.audit.db.execute_sql("SELECT pg_terminate_backend(pg_backend_pid())")

        monkeypatch.setattr(SessionRecords, "_snapshot", terminated)
        sandbox.admin.step()
        result = SessionRunner(session, iterations=50).run()
        assert result.status == "failed" and result.audit_failed
        assert not sandbox_view(sandbox)[limit][0], "the limit buy kept working"
        assert result.error is not None and result.error.startswith("lost the audit store")
        assert result.error.endswith(
            "; cancelled 1 working order(s) at the broker, not recorded: the audit store is "
            "lost; the next start records them"
        ), result.error
    finally:
        session.broker.close()
        database.obj.close()
    again = alpaca_session(sandbox, store)  # the next start
    try:
        settle(sandbox, again)
        status = LiveOrder.get(LiveOrder.client_order_id == limit).status
        assert status == "canceled", "the next start did not record the cancel"
    finally:
        again.broker.close()
        database.obj.close()


def test_a_desk_whose_store_is_lost_keeps_the_sell_by_hand_that_stands_for_its_stop(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The desk holds SPY with ``--stop-loss 2``; the trader offers the whole position by hand
    well above the market (the stop is cancelled first: the sell holds the shares); the
    database file is deleted. The desk stops: the sell by hand keeps working (it only shrinks
    the position, and it is the position's one exit now), nothing else is sent. Before, the
    lost store's cancel took it too: the position was left with neither the sell nor a stop,
    and the end line named no position without its stop."""
    db = tmp_path / "desk.db"
    desk = buy_and_protect(sandbox, db, protected=open_stops, shock=1.0)
    try:
        held = spy_held(client(sandbox))
        last = float(sandbox.admin.state()["prices"]["SPY"])
        sell = limit_sell(desk, sandbox, held, round(last * 1.5, 2))
        assert open_stops(sandbox) == []  # cancelled for the sell
        _delete(db)
        sandbox.admin.step()
        result = SessionRunner(desk, iterations=50).run()
        assert result.status == "failed" and result.audit_failed
        assert sandbox_view(sandbox)[sell][0], "the sell by hand was cancelled: SPY has no exit"
        assert spy_held(client(sandbox)) == held
        assert result.error is not None and result.error.endswith(
            " was deleted while the session ran: trading stopped, no order sent without its "
            "row; what this session wrote is in the old file, not at that path (start the "
            "session again to go on); 1 order(s) closing part of a held position left working "
            "(they only shrink it)"
        ), result.error
    finally:
        desk.broker.close()
        database.obj.close()
