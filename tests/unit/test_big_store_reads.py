"""Reads of a desk's database after months: what they hold in memory does not grow with it.

A desk left running day after day on one database collects hundreds of thousands of trades. The
History screen's PnL view and ``tui-trader pnl`` read them all (a day's sum needs every trade),
but they must stream them: peewee's row cache held every row at once (~37 MB at 200,000 trades).
Memory is counted by ``tracemalloc`` (bytes the code allocated), never timed.
"""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui_trader.store.db import open_database
from tui_trader.store.models import LiveTrade
from tui_trader.store.queries import pnl_by_day

TRADES = 30_000
DAYS = 60
PEAK_BYTES = 1_500_000
"""The bound on what ``pnl_by_day`` holds at its peak: its per-day sums (60 days) and one
batch of rows; holding all 30,000 rows took ~5.6 MB, streaming them ~25 kB."""


def _store(tmp_path: Path) -> None:
    """A database with ``TRADES`` trades spread over ``DAYS`` market days, one unreadable."""
    open_database(tmp_path / "big.db")
    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    rows = [
        {
            "symbol": f"S{i % 50:02d}",
            "side": "long",
            "quantity": 1.0,
            "entry_price": 100.0,
            "exit_price": 101.0,
            "timestamp": start,
            "market_time": start + timedelta(days=i % DAYS, minutes=i % 390),
            "pnl": 1.0,
            "pnl_pct": 1.0,
        }
        for i in range(TRADES)
    ]
    rows[7]["pnl"] = float("inf")  # a hand edit: that day's sum is unreadable, said once
    with LiveTrade._meta.database.atomic():
        for at in range(0, TRADES, 2_000):
            LiveTrade.insert_many(rows[at : at + 2_000]).execute()


def test_pnl_by_day_streams_a_big_store_and_still_sums_every_trade(tmp_path: Path) -> None:
    """Every trade is counted in its day, the hand-edited one is noted and its day left
    unsummed, and the read's peak allocation stays far below the rows' own size."""
    _store(tmp_path)
    notes: list[str] = []
    tracemalloc.start()
    try:
        days = pnl_by_day(3650, None, notes=notes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(days) == DAYS
    assert sum(d.trades for d in days) == TRADES
    unreadable = [d for d in days if d.realized is None]
    assert [d.day for d in unreadable] == [datetime(2026, 1, 12).date()]
    assert all(d.realized == d.trades for d in days if d.realized is not None)
    assert len(notes) == 1 and "live_trades row 8 column pnl" in notes[0]
    assert peak < PEAK_BYTES, f"pnl_by_day held {peak:,} bytes at its peak"
