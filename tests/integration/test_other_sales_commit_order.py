"""Other desks' fills "since the positions were read" follow commits, not id order, on PostgreSQL.

Before a desk sizes an exit, a put-back stop or a halt's flatten close, it notes what the store
has recorded (``store.other_sales.newest_fill_id``), reads the broker's positions, and leaves
out of the order the shares other desks' fills recorded since then close
(``engine.sales_beside``): Alpaca's positions may lag those fills. On PostgreSQL a fill's id
comes from a sequence when its row is inserted, not when its transaction commits: desk B
inserts its sale's fill (id 1) and has not committed yet, desk C's fill in another symbol (id
2) commits, this desk notes "newest fill 2", then B commits. Counted by id (``id > 2``), B's
sale was never counted: the exit or close came out the size of the whole position beside a
sale that had already sold it, a short once the lagging positions caught up. Now the mark on
PostgreSQL is the store's snapshot (``pg_current_snapshot()``, as start-up reconciliation's
``store.lost_rows`` notes it) and a fill is after it when that snapshot did not see its
transaction. The interleaving is driven by two connections in one thread (no timing); SQLite
has one writer at a time, so there id order is commit order (``test_other_sales_store``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tui_trader.engine.sales_beside import sales_beside
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveFill, SessionRow
from tui_trader.store.other_sales import closed_since, newest_fill_id
from tui_trader.store.pg_url import parse_db_url


def _session(key: str) -> SessionRow:
    """A live session of the account (its heartbeat fresh)."""
    now = datetime.now(UTC)
    return SessionRow.create(
        key=key, mode="paper", broker="alpaca", data_source="alpaca", symbols="SPY,QQQ",
        parameters="{}", account_key="acct", started_at=now, status="running", heartbeat_at=now,
        heartbeat_window=60.0,
    )  # fmt: skip


def _fill(session_id: int, key: str, symbol: str, qty: float) -> None:
    """A sale's fill recorded for the session (through whichever store the models are bound to)."""
    LiveFill.create(
        session=session_id, fill_key=key, symbol=symbol, side="sell", quantity=qty,
        price=500.0, timestamp=datetime.now(UTC),
    )  # fmt: skip


def test_a_sale_committed_after_a_later_fill_and_the_mark_counts_as_since(pg_url: str) -> None:
    """Desk B's fill of 10 SPY (id 1) commits after desk C's fill of QQQ (id 2) and after this
    desk's mark. Before: 0 shares counted (a sell stop or close for the 10 SPY the sale sold)."""
    url = parse_db_url(pg_url)
    db_b = open_database(url)  # desk B's own connection
    db = open_database(url)  # this desk's (and C's): the models are bound to it
    try:
        me, b, c = _session("me"), _session("b"), _session("c")
        with db_b.atomic():
            with db_b.bind_ctx([LiveFill]):
                _fill(b.id, "b-spy", "SPY", 10.0)  # id 1, not committed yet
            _fill(c.id, "c-qqq", "QQQ", 3.0)  # id 2, committed (the models' own connection)
            since = newest_fill_id()  # read just before this desk's positions
        rows = db.execute_sql('SELECT "id", "fill_key" FROM "live_fills" ORDER BY 1').fetchall()
        assert rows == [(1, "b-spy"), (2, "c-qqq")]  # the interleaving the test means
        assert closed_since("acct", "SPY", me.id, since, "sell") == 10.0
        assert closed_since("acct", "QQQ", me.id, since, "sell") == 0.0  # before the mark
        beside = sales_beside("acct", me.id, "SPY", 10.0, set(), since)
        assert beside.filled == 10.0, "an exit or close sized on shares B's sale had sold"
        assert closed_since("acct", "SPY", b.id, since, "sell") == 0.0  # B's own: not beside
    finally:
        db_b.close()
        db.close()
