"""A desk whose SQLite store another program locks mid-rebalance ends after one wait, not two.

A desk on a broker that outlives it (rows committed one by one) takes each order's slot of the
day's count with one statement straight on the SQLite connection. When another program holds
the file's write lock past the busy timeout (10 s), that statement fails with SQLite's own
``database is locked``, not peewee's wrapper of it. A cycle failing on anything but the broker's
silence writes the refusals it gathered before it goes (``engine.waits``), except when the
store is what failed: the wrapper was recognised as the store's failure, SQLite's own error was
not. So the desk tried that write too, under the same lock, and waited out the busy timeout a
second time before it ended (halted, cancelled its working orders at the broker, said why):
20 s instead of 10, its orders working meanwhile. Now the store's failure is recognised either
way: the desk tries no write the lock holds up and ends at once.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import tui_trader.store.risk_rows as risk_rows
from tests.conftest import make_session
from tests.integration.test_exit_events_kept_on_failure import Targets, TwoScript
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import RiskEvent
from tui_trader.engine.session import TradingSession
from tui_trader.session.runner import SessionRunner
from tui_trader.store import db as store_db

WRITES = ("BEGIN", "INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")
"""How a statement that needs the file's write lock begins."""


def test_a_lock_taken_mid_rebalance_is_waited_out_once_before_the_desk_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QQQ's sell is refused (short selling is off), then another program takes the file's
    write lock just before SPY's order takes its slot, and keeps it. The slot's statement waits
    the busy timeout out and fails; from then until the desk's end begins (its halt told, the
    lock let go there) the desk tries no statement that waits for the lock again. The desk ends
    failed, in the locked store's own words."""
    monkeypatch.setitem(store_db._PRAGMAS, "busy_timeout", 300)  # 10 s in real use
    path = tmp_path / "desk.db"
    market, strategy = TwoScript(), Targets()
    strategy.target = {"QQQ": -1.0, "SPY": 1.0}
    session = make_session(
        path,
        market=market,
        strategies=[strategy],
        costs=PaperCosts(0.0, 0.0, 0.0),
        allocation_pct=10.0,
        commit_before_send=True,  # rows commit one by one, as on a broker that outlives us
    )
    holder = sqlite3.connect(path, isolation_level=None, timeout=10)
    tried: list[str] = []  # the desk's statements since the slot's failed, until its end
    failed: list[BaseException] = []
    real = risk_rows.reserve_order_slot

    def slot_under_a_lock(*args: object, **kwargs: object) -> object:
        """Another program takes the write lock just before the order's slot is taken."""
        holder.execute("BEGIN IMMEDIATE")
        try:
            return real(*args, **kwargs)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            failed.append(exc)
            raise

    told = TradingSession.tell_unrecorded

    def end_begins(self: TradingSession, event: RiskEvent) -> None:
        """The desk's end has begun (its halt is told): the other program lets go."""
        if failed and holder.in_transaction:
            holder.execute("ROLLBACK")
        failed.append(AssertionError("ended"))  # what the desk tries from here is its end's
        told(self, event)

    def traced(statement: str) -> None:
        """A statement the desk's connection runs (before it waits for any lock)."""
        if len(failed) == 1:
            tried.append(statement)

    monkeypatch.setattr(risk_rows, "reserve_order_slot", slot_under_a_lock)
    monkeypatch.setattr(TradingSession, "tell_unrecorded", end_begins)
    session.audit.db.connection().set_trace_callback(traced)
    market.push()
    try:
        result = SessionRunner(session, iterations=1).run()
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    assert failed and "database is locked" in str(failed[0]), f"the scene is not set: {failed}"
    assert result.status == "failed" and "stayed locked" in (result.error or ""), result
    waited = [s for s in tried if s.lstrip().upper().startswith(WRITES)]
    assert not waited, (
        "after the lock's failure the desk tried more writes under the same lock, each waiting "
        f"the busy timeout out before the desk ended: {waited}"
    )
