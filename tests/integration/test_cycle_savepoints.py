"""A batched replay cycle sets its savepoint only when it first writes (issue 17).

Most replay cycles write nothing; their savepoint and its release were two SQLite statements a
cycle, a tenth of a crossover replay's time. A batch's risk events wait for its commit, so a
cycle that only refuses orders (at the daily order limit, most cycles of a long replay) writes
nothing either. What must not change: a cycle that fails after it wrote rolls back alone, the
cycles before it in the batch are kept, and a read from another thread never begins a
transaction of its own.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.core.domain import RiskEvent
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.sim import SimMarket
from tui_trader.store.audit import AuditLog


def _batched(db: Path) -> tuple[AuditLog, object]:
    """A started session's audit log switched to batches of 100 cycles; (log, session)."""
    market = SimMarket(("SPY",), parse_interval("1m"), parse_period("1d"), seed=3)
    session = make_session(db, market=market)
    audit = AuditLog(session.audit.db, session.clock, commit_every=100)
    audit.session = session.audit.session
    session.audit = audit
    return audit, session


def _snapshot(audit: AuditLog, session: object, iteration: int) -> None:
    """Write one snapshot row marked with ``iteration``."""
    account = session.broker.account()  # type: ignore[attr-defined]
    state = session.risk.state.state  # type: ignore[attr-defined]
    audit.snapshot(iteration, account, {}, 0.0, 0.0, state, None)


def _iterations(db: Path) -> list[int]:
    """The iterations of the snapshots committed to ``db``."""
    with sqlite3.connect(db) as con:
        return [i for (i,) in con.execute("SELECT iteration FROM live_account_snapshots")]


def test_a_batched_cycle_that_writes_nothing_sends_no_statement(tmp_path: Path) -> None:
    """Quiet cycles cost SQLite nothing; a cycle that writes is still wrapped in a savepoint."""
    audit, session = _batched(tmp_path / "a.db")
    with audit.cycle():  # the batch's transaction is open from here on
        _snapshot(audit, session, 1)
    sent: list[str] = []
    audit.db.connection().set_trace_callback(sent.append)
    for _ in range(20):
        with audit.cycle():
            pass
    assert sent == []
    with audit.cycle():
        _snapshot(audit, session, 2)
    assert [s.split()[0] for s in sent] == ["SAVEPOINT", "INSERT", "RELEASE"]
    audit.db.connection().set_trace_callback(None)
    audit.flush()
    assert _iterations(tmp_path / "a.db") == [1, 2]


def test_a_cycle_failing_before_or_after_its_first_write_rolls_back_alone(
    tmp_path: Path,
) -> None:
    """A failure before any write leaves the batch whole; one after a write undoes only that
    cycle's rows; the batch goes on and commits the rest."""
    audit, session = _batched(tmp_path / "b.db")
    with audit.cycle():
        _snapshot(audit, session, 1)
    with pytest.raises(RuntimeError), audit.cycle():
        raise RuntimeError("before any write")
    with audit.cycle():
        _snapshot(audit, session, 2)
    with pytest.raises(RuntimeError), audit.cycle():
        _snapshot(audit, session, 98)
        _snapshot(audit, session, 99)
        raise RuntimeError("after two writes")
    with audit.cycle():
        _snapshot(audit, session, 3)
    audit.flush()
    assert _iterations(tmp_path / "b.db") == [1, 2, 3]


def test_another_threads_read_inside_a_cycle_keeps_the_cycles_savepoint(tmp_path: Path) -> None:
    """A reader thread (the desk's history browser shares the database object) reading while a
    cycle has not written yet neither begins a transaction on its own connection nor uses up
    the cycle's savepoint: the cycle, failing after its write, still rolls back alone."""
    audit, session = _batched(tmp_path / "c.db")
    with audit.cycle():
        _snapshot(audit, session, 1)
    seen: dict[str, object] = {}

    def read() -> None:
        cursor = audit.db.execute_sql("SELECT count(*) FROM live_account_snapshots")
        seen["rows"] = cursor.fetchone()[0]
        seen["in_transaction"] = audit.db.connection().in_transaction
        audit.db.close()  # this thread's connection

    with pytest.raises(RuntimeError), audit.cycle():
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        _snapshot(audit, session, 99)
        raise RuntimeError("after its write")
    audit.flush()
    assert seen == {"rows": 0, "in_transaction": False}
    assert _iterations(tmp_path / "c.db") == [1]


def test_a_batchs_risk_events_wait_for_its_commit_and_a_failed_cycle_drops_its_own(
    tmp_path: Path,
) -> None:
    """A cycle that only records risk events sends nothing; at the commit they are all written
    in order, without those of a cycle that failed."""
    audit, session = _batched(tmp_path / "d.db")
    with audit.cycle():
        _snapshot(audit, session, 1)

    def refuse(what: str) -> None:
        event = RiskEvent("order_rate_limit", 100.0, 100.0, f"refused {what}", symbol="SPY")
        audit.risk_event(event, "acct", session.clock.now())  # type: ignore[attr-defined]

    sent: list[str] = []
    audit.db.connection().set_trace_callback(sent.append)
    with audit.cycle():
        refuse("a")
        refuse("b")
    assert sent == []
    with pytest.raises(RuntimeError), audit.cycle():
        refuse("c")
        raise RuntimeError("boom")
    with audit.cycle():
        refuse("d")
    assert sent == []
    audit.db.connection().set_trace_callback(None)
    audit.flush()
    with sqlite3.connect(tmp_path / "d.db") as con:
        actions = [a for (a,) in con.execute("SELECT action_taken FROM live_risk_events")]
    assert actions == ["refused a", "refused b", "refused d"]
