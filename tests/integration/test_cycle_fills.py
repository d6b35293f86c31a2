"""The previous cycle's fills in a decision cycle: recorded in full, and (locally) after the
cycle's new orders have gone out.

Issue 17: the cycle after a day-start burst settled some 40 fills (their order, fill and trade
rows) before it routed its first order, and set the local p99 of bar → order. A local cycle
commits nothing before it ends, so those rows are written right after the rebalance hands its
orders to the broker, in the same transaction. A remote broker's session commits row by row:
there the fills are still written before anything is sent.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.conftest import make_session
from tui_trader.core.domain import Bar, Signal
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import RiskLimits

_LIMITS = RiskLimits(max_position_pct=30.0)


class Flip:
    """Long on one bar, flat on the next, per symbol: every cycle after the first trades, and
    settles the orders of the cycle before (buys, then sells that close round trips)."""

    name = "flip"

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def on_bar(self, bar: Bar) -> Signal:
        """+1 and 0 in turn."""
        count = self.seen[bar.symbol] = self.seen.get(bar.symbol, 0) + 1
        return Signal(1.0 if count % 2 else 0.0, "flip")


def _trace(session: TradingSession) -> list[tuple[str, str]]:
    """What the cycle does, in order: every SQL statement SQLite runs (each row of an
    ``executemany`` too) and every order handed to the broker."""
    steps: list[tuple[str, str]] = []
    session.audit.db.connection().set_trace_callback(lambda sql: steps.append(("sql", sql)))
    submit = session.broker.submit

    def traced_submit(request):
        steps.append(("submit", request.client_order_id))
        return submit(request)

    session.broker.submit = traced_submit  # type: ignore[method-assign]
    return steps


def _first(steps: list[tuple[str, str]], kind: str, text: str = "") -> int:
    """Index of the first step of ``kind`` whose text holds ``text``."""
    return next(i for i, (k, what) in enumerate(steps) if k == kind and text in what)


def _committed(db_path: Path, table: str) -> int:
    """Rows of ``table`` another connection reads."""
    with sqlite3.connect(db_path) as other:
        return int(other.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_local_cycle_sends_its_first_order_before_writing_the_last_cycles_fills(
    db_path: Path,
) -> None:
    """Buys, then a cycle that sells them (its fills open positions), then one that buys
    again (its fills close round trips): in each cycle the first order reaches the broker
    before the previous cycle's fill and trade rows are written, and once the cycle returns
    another connection reads every fill and trade, each fill tied to its order, while the
    cycle's report counts them."""
    session = make_session(db_path, strategies=[Flip()], limits=_LIMITS)
    first = session.run_iteration()
    assert first is not None and first.orders_sent == 3
    fills = 0
    for _ in range(2):
        steps = _trace(session)
        report = session.run_iteration()
        assert report is not None and report.orders_sent == 3 and report.fills == 3
        assert len(report.new_fills) == 3
        assert _first(steps, "submit") < _first(steps, "sql", 'INSERT INTO "live_fills"')
        fills += 3
        assert _committed(db_path, "live_fills") == fills
    trades = _committed(db_path, "live_trades")
    assert trades == 3 and session.realized_pnl != 0.0
    with sqlite3.connect(db_path) as other:
        orphans = other.execute(
            "SELECT count(*) FROM live_fills WHERE order_id IS NULL OR order_id NOT IN "
            "(SELECT id FROM live_orders)"
        ).fetchone()[0]
        filled = other.execute(
            "SELECT count(*) FROM live_orders WHERE status = 'filled'"
        ).fetchone()[0]
    assert orphans == 0 and filled == 6


def test_a_cycle_lists_the_settled_orders_before_its_new_ones(db_path: Path) -> None:
    """The cycle's report lists the orders the broker filled since the last cycle first,
    then the orders the cycle sent: the order the desk's log shows them in."""
    session = make_session(db_path, strategies=[Flip()], limits=_LIMITS)
    first = session.run_iteration()
    assert first is not None
    report = session.run_iteration()
    assert report is not None
    sent_before = {o.client_order_id for o in first.orders}
    listed = [o.client_order_id in sent_before for o in report.orders]
    assert listed == [True, True, True, False, False, False]
    assert [str(o.status) for o in report.orders[:3]] == ["filled"] * 3


def test_a_remote_brokers_cycle_commits_the_last_cycles_fills_before_it_sends(
    db_path: Path,
) -> None:
    """Where rows commit one by one (the Alpaca path: each order row is durable before its
    order is sent), the fills of the previous cycle are written before the first new order."""
    session = make_session(db_path, strategies=[Flip()], limits=_LIMITS, commit_before_send=True)
    session.run_iteration()
    steps = _trace(session)
    report = session.run_iteration()
    assert report is not None and report.orders_sent == 3 and report.fills == 3
    assert _first(steps, "sql", 'INSERT INTO "live_fills"') < _first(steps, "submit")
