"""Start-up reconciliation's "fills after the snapshot" follows commits, not id order.

On PostgreSQL a fill's id is taken from a sequence when the row is inserted, not when its
transaction commits: session A inserts fill 1 and has not committed, session B inserts fill 2,
commits and writes a snapshot (the newest fill id it sees: 2), then A commits. Before, the
next start expected the snapshot plus the fills with an id above 2 and so never counted A's
fill: 'positions differ from the last snapshot: SPY 5 recorded vs 15 at the broker', a false
alarm (and a real difference of the same size would have been hidden). Now a snapshot on
PostgreSQL notes which transactions it saw (``pg_current_snapshot()``) and each fill the
transaction that wrote it: a fill is after the snapshot when the snapshot did not see it.
The interleaving is driven by two connections in one thread, each transaction opened and
committed in the chosen order (no timing). SQLite has one writer at a time (every write
transaction begins ``IMMEDIATE``), so there id order is commit order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.integration.reconcile_helpers import ACCOUNT, HeldBroker, next_start
from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import Account, Position, TradingState
from tui_trader.core.orders import Fill, Order, OrderRequest, OrderStatus, OrderType, Side
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.pg_url import PgUrl, parse_db_url

START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
CASH = Account(cash=1e5, equity=1e5, buying_power=1e5, account_id="x")


def _fill(audit: AuditLog, cid: str, qty: float) -> None:
    """A buy of the desk's, its fill and the row's change, recorded now."""
    audit.order_pending(OrderRequest("SPY", Side.BUY, qty, cid, rationale="t"), 1, START)
    audit.fill(Fill(cid, "SPY", Side.BUY, qty, 100.0, START, fill_id=f"f-{cid}"), START)
    done = Order(cid, "SPY", Side.BUY, qty, OrderType.MARKET, OrderStatus.FILLED, filled_qty=qty)
    audit.order_update(done)


def _snapshot(audit: AuditLog, held: float, marker: object = None) -> None:
    """A snapshot holding ``held`` shares of SPY (judged from ``marker``, if given)."""
    positions = {"SPY": Position("SPY", held, 100.0, 100.0)}
    audit.snapshot(1, CASH, positions, 0.0, 0.0, TradingState.ACTIVE, START, marker)


def _session(db: object, clock: FrozenClock) -> AuditLog:
    audit = AuditLog(db, clock)
    audit.start_session("live", "alpaca", None, "test", ("SPY",), {}, account_key=ACCOUNT)
    return audit


def test_a_fill_committed_after_a_later_id_and_its_snapshot_is_expected(pg_url: str) -> None:
    """A's fill (id 1) commits after B's fill (id 2) and B's snapshot. Before: {'SPY': (5.0,
    15.0)}. A trade by hand since is still a difference."""
    url = parse_db_url(pg_url)
    db_b = open_database(url)
    db_a = open_database(url)
    try:
        clock = FrozenClock(START)
        a, b = _session(db_a, clock), _session(db_b, clock)
        with db_a.atomic():
            _fill(a, "tt-a-10", 10)  # id 1, not committed yet
            with db_b.atomic():
                _fill(b, "tt-b-5", 5)  # id 2, committed
            with db_b.atomic():
                _snapshot(b, 5)  # the broker held B's 5 when B read it
        a.end_session("stopped", 1)
        b.end_session("stopped", 1)
        rows = db_a.execute_sql('SELECT "id", "fill_key" FROM "live_fills" ORDER BY 1')
        ids = [(i, key.rsplit(":", 1)[1]) for i, key in rows]
        assert ids == [(1, "f-tt-a-10"), (2, "f-tt-b-5")]  # the interleaving the test means
        assert next_start(db_a, clock, HeldBroker(15)) == {}
        assert next_start(db_a, clock, HeldBroker(25)) == {"SPY": (15.0, 25.0)}
    finally:
        db_a.close()
        db_b.close()


def test_a_snapshot_holds_its_own_transactions_earlier_fills_only(store: Path | PgUrl) -> None:
    """One transaction records a fill, a snapshot, then another fill (a batch of cycles):
    the first is in the snapshot, the second after it. (PostgreSQL's own snapshot does not
    see its own transaction: that alone would have counted the first fill twice.)"""
    db = open_database(store)
    try:
        clock = FrozenClock(START)
        audit = _session(db, clock)
        with db.atomic():
            _fill(audit, "tt-buy-10", 10)
            _snapshot(audit, 10)
            _fill(audit, "tt-buy-4", 4)
        audit.end_session("stopped", 1)
        assert next_start(db, clock, HeldBroker(14)) == {}
    finally:
        db.close()


def test_a_store_from_before_gets_the_columns_and_its_rows_still_count(pg_url: str) -> None:
    """A PostgreSQL store written before these columns: opened again, they are added (its
    rows left NULL), its last snapshot still counts the fills recorded after it by id, and
    the next snapshots note what they saw."""
    url = parse_db_url(pg_url)
    db = open_database(url)
    for table, column in (("live_fills", "xact"), ("live_account_snapshots", "xact")):
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    db.execute_sql('ALTER TABLE "live_account_snapshots" DROP COLUMN "fills_seen"')
    clock = FrozenClock(START)
    audit = _session(db, clock)
    _fill(audit, "tt-buy-10", 10)
    _snapshot(audit, 10)
    _fill(audit, "tt-buy-4", 4)
    audit.end_session("stopped", 1)
    db.close()
    db = open_database(url)
    try:
        assert next_start(db, clock, HeldBroker(14)) == {}
        audit = _session(db, clock)
        _fill(audit, "tt-buy-3", 3)
        _snapshot(audit, 17)
        _fill(audit, "tt-buy-2", 2)
        audit.end_session("stopped", 1)
        seen = db.execute_sql('SELECT "fills_seen" FROM "live_account_snapshots" ORDER BY "id"')
        assert [row[0] is not None for row in seen] == [False, True]
        assert next_start(db, clock, HeldBroker(19)) == {}
        assert next_start(db, clock, HeldBroker(17)) == {"SPY": (19.0, 17.0)}
    finally:
        db.close()


def test_a_fill_whose_commit_comes_after_the_snapshot_that_holds_it_is_counted_once(
    pg_url: str,
) -> None:
    """A records a fill and its order's final status in one transaction (not committed yet);
    B reads the broker, which already holds A's 10, and writes its snapshot; A commits. The
    snapshot did not see A's fill, so it is after it, yet the positions it holds count it:
    the next start expected 20 (the snapshot's 10 and A's fill). Now the snapshot names SPY
    as one it cannot vouch for (A's order not final as it saw it), and the next start takes
    SPY from B's earlier snapshot (nothing held) plus the fills after that one."""
    url = parse_db_url(pg_url)
    db_b = open_database(url)
    db_a = open_database(url)
    try:
        clock = FrozenClock(START)
        a, b = _session(db_a, clock), _session(db_b, clock)
        _snapshot(b, 0, b.fills_marker())  # flat, nothing working: it vouches for SPY
        a.order_pending(OrderRequest("SPY", Side.BUY, 10, "tt-a-10", rationale="t"), 1, START)
        with db_a.atomic():
            a.fill(Fill("tt-a-10", "SPY", Side.BUY, 10, 100.0, START, fill_id="f-a"), START)
            a.order_update(
                Order("tt-a-10", "SPY", Side.BUY, 10, OrderType.MARKET, OrderStatus.FILLED, 10)
            )
            _snapshot(b, 10, b.fills_marker())  # B's read already holds A's 10
        a.end_session("stopped", 1)
        b.end_session("stopped", 2)
        assert next_start(db_a, clock, HeldBroker(10)) == {}
        assert next_start(db_a, clock, HeldBroker(12)) == {"SPY": (10.0, 12.0)}
        judged = db_a.execute_sql('SELECT "unsettled" FROM "live_account_snapshots" ORDER BY "id"')
        assert [row[0] for row in judged] == [",", ",SPY,"]
    finally:
        db_a.close()
        db_b.close()


def test_a_fill_recorded_between_the_broker_read_and_the_snapshot_is_not_taken_as_held(
    store: Path | PgUrl,
) -> None:
    """B notes what the trail holds and reads the broker (nothing held); A's buy of 10 then
    fills and is recorded, all before B's snapshot is written. The snapshot saw the fill, but
    the positions it holds do not count it: taken as held, the next start expected 0 and named
    the broker's 10 a difference. The snapshot names SPY as one it cannot vouch for."""
    db = open_database(store)
    try:
        clock = FrozenClock(START)
        a, b = _session(db, clock), _session(db, clock)
        _snapshot(b, 0, b.fills_marker())
        marker = b.fills_marker()  # then B reads the broker: nothing held yet
        _fill(a, "tt-a-10", 10)
        _snapshot(b, 0, marker)
        a.end_session("stopped", 1)
        b.end_session("stopped", 2)
        assert next_start(db, clock, HeldBroker(10)) == {}
        judged = db.execute_sql('SELECT "unsettled" FROM "live_account_snapshots" ORDER BY "id"')
        assert [row[0] for row in judged] == [",", ",SPY,"]
    finally:
        db.close()
