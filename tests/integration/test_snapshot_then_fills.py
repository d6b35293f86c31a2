"""Start-up reconciliation expects the last snapshot plus every fill recorded after it.

A snapshot records the broker's positions as a cycle read them; fills still on their way are
recorded after it. A power loss (or a restore from a backup) can keep those fill rows and lose
every later snapshot. Before, the next start compared the broker with the snapshot alone (plus
fills of orders written back from the broker) and said 'positions differ from the last
snapshot: SPY -5 recorded vs 15 at the broker', a false alarm. Now the expectation is the
snapshot plus the account's fills recorded after it (fill ids above the newest the snapshot
saw, whatever the clocks say), and the fills reconciliation itself finds; a real difference
(a trade by hand) is still said. The database state is built directly, on both engines.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.integration.reconcile_helpers import ACCOUNT, HeldBroker, next_start
from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import Account, Position, TradingState
from tui_trader.core.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from tui_trader.engine.reconcile import positions_event
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import AccountSnapshot
from tui_trader.store.pg_url import PgUrl

START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
CASH = Account(cash=1e5, equity=1e5, buying_power=1e5, account_id="x")


def _filled(cid: str, side: Side, qty: float) -> Order:
    """The broker's word: the order filled in full at 100."""
    return Order(
        cid,
        "SPY",
        side,
        qty,
        OrderType.MARKET,
        OrderStatus.FILLED,
        filled_qty=qty,
        filled_avg_price=100.0,
    )


def _fill(audit: AuditLog, cid: str, side: Side, qty: float) -> None:
    """An order of the desk's, then its fill with the row's change, recorded now."""
    audit.order_pending(OrderRequest("SPY", side, qty, cid, rationale="t"), 1, START)
    audit.fill(Fill(cid, "SPY", side, qty, 100.0, START, fill_id=f"f-{cid}"), START)
    audit.order_update(_filled(cid, side, qty))


def _first_run(db: object, clock: FrozenClock) -> AuditLog:
    """A run on the account: sold 5 (recorded before its snapshot, which holds -5), then a
    snapshot taken while its buy of 20 was still on its way, then that fill recorded; every
    later snapshot lost (none written)."""
    audit = AuditLog(db, clock)
    audit.start_session("live", "alpaca", None, "test", ("SPY",), {}, account_key=ACCOUNT)
    _fill(audit, "tt-sell-5", Side.SELL, 5)
    held = {"SPY": Position("SPY", -5, 100.0, 100.0)}
    audit.snapshot(1, CASH, held, 0.0, 0.0, TradingState.ACTIVE, START)
    _fill(audit, "tt-buy-20", Side.BUY, 20)
    audit.end_session("stopped", 1)
    return audit


def test_fills_recorded_after_the_snapshot_are_expected_and_a_real_difference_stays(
    store: Path | PgUrl,
) -> None:
    """Every row stamped at the same instant (a clock that did not move): ids decide. Before:
    {'SPY': (-5.0, 15.0)}, 'positions differ ... SPY -5 recorded vs 15 at the broker'."""
    db = open_database(store)
    try:
        clock = FrozenClock(START)
        _first_run(db, clock)
        assert next_start(db, clock, HeldBroker(15)) == {}
        by_hand = next_start(db, clock, HeldBroker(25))  # 10 bought by hand since
        assert by_hand == {"SPY": (15.0, 25.0)}
        event = positions_event(by_hand)
        assert event is not None and event.detail.endswith("SPY 15 recorded vs 25 at the broker")
    finally:
        db.close()


def test_a_fill_reconciliation_finds_is_expected_too(store: Path | PgUrl) -> None:
    """An order working when the run ended filled while no session watched: the order's
    event says so, and its shares are not called a difference from the snapshot as well."""
    db = open_database(store)
    try:
        clock = FrozenClock(START)
        audit = _first_run(db, clock)
        audit.order_pending(OrderRequest("SPY", Side.BUY, 7, "tt-buy-7", rationale="t"), 2, START)
        filled = _filled("tt-buy-7", Side.BUY, 7)
        assert next_start(db, clock, HeldBroker(22, {"tt-buy-7": filled})) == {}
    finally:
        db.close()


def test_a_snapshot_from_before_fill_ids_compares_record_times(tmp_path: Path) -> None:
    """A snapshot row an older version wrote (no fill id noted): the fills recorded after it
    by their record time are expected."""
    db = open_database(tmp_path / "old.db")
    try:
        clock = FrozenClock(START, timedelta(seconds=1))
        _first_run(db, clock)
        AccountSnapshot.update(fills_through=None).execute()
        assert next_start(db, clock, HeldBroker(15)) == {}
        assert next_start(db, clock, HeldBroker(-5)) == {"SPY": (15.0, -5.0)}
    finally:
        db.close()
