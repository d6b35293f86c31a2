"""Replay settings (issue 8): batched commits and a snapshot cadence change no trading fact.

The same seeded session run with ``commit_every``/``snapshot_every`` must record exactly the
orders, fills and trades of a session that commits and snapshots every cycle; only the number of
snapshots differs (every N-th cycle plus the last).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.sim import SimMarket
from tui_trader.store.audit import AuditLog

CYCLES = 120


def _run(db: Path, commit_every: int, snapshot_every: int) -> dict[str, list[tuple]]:
    """A seeded crossover session of CYCLES cycles; the rows it left."""
    market = SimMarket(("SPY", "QQQ"), parse_interval("1m"), parse_period("1d"), seed=3)
    session = make_session(db, market=market, allocation_pct=40.0)
    audit = AuditLog(session.audit.db, session.clock, commit_every=commit_every)
    audit.session = session.audit.session
    session.audit = audit
    session.config = replace(session.config, snapshot_every=snapshot_every)
    session._snapshot_every = snapshot_every
    for _ in range(CYCLES):
        session.run_iteration()
    session.finish("completed")
    with sqlite3.connect(db) as con:
        return {
            "orders": con.execute(
                "SELECT symbol, side, quantity, status, filled_qty, filled_price FROM live_orders "
                "ORDER BY id"
            ).fetchall(),
            "fills": con.execute(
                "SELECT symbol, side, quantity, price FROM live_fills ORDER BY id"
            ).fetchall(),
            "trades": con.execute(
                "SELECT symbol, quantity, entry_price, exit_price, pnl FROM live_trades ORDER BY id"
            ).fetchall(),
            "snapshots": con.execute("SELECT iteration FROM live_account_snapshots").fetchall(),
        }


def test_batched_replay_records_the_same_orders_fills_and_trades(tmp_path: Path) -> None:
    """Every order and trade is recorded; snapshots every 50th cycle and at the end."""
    plain = _run(tmp_path / "a.db", 1, 1)
    batched = _run(tmp_path / "b.db", 37, 50)
    assert plain["orders"], "the seeded session should trade"
    for kind in ("orders", "fills", "trades"):
        assert batched[kind] == plain[kind]
    assert len(plain["snapshots"]) == CYCLES
    assert [i for (i,) in batched["snapshots"]] == [50, 100, CYCLES]


def test_a_failed_cycle_rolls_back_alone_inside_a_batch(tmp_path: Path) -> None:
    """A cycle that raises leaves no rows; the cycles before it in the batch are kept."""
    market = SimMarket(("SPY",), parse_interval("1m"), parse_period("1d"), seed=3)
    session = make_session(tmp_path / "c.db", market=market)
    audit = AuditLog(session.audit.db, session.clock, commit_every=100)
    audit.session = session.audit.session
    session.audit = audit
    session._snapshot_every = 1
    session.run_iteration()
    session.run_iteration()
    with pytest.raises(RuntimeError), audit.cycle():
        audit.snapshot(99, session.broker.account(), {}, 0.0, 0.0, session.risk.state.state, None)
        raise RuntimeError("boom")
    audit.flush()
    with sqlite3.connect(tmp_path / "c.db") as con:
        iterations = [i for (i,) in con.execute("SELECT iteration FROM live_account_snapshots")]
    assert iterations == [1, 2]


def test_commit_every_is_refused_below_one(tmp_path: Path) -> None:
    """A batch of zero cycles means nothing."""
    session = make_session(tmp_path / "d.db")
    with pytest.raises(ValueError):
        AuditLog(session.audit.db, session.clock, commit_every=0)
