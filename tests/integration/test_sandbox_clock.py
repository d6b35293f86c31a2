"""The sandbox's clock and its bars share one simulated time at any ``--speed``: at speed 60
(a 1m bar each wall second) the newest bar, read every way a bot reads it (latest bar,
historical bars, snapshot), never ends after ``/v2/clock``'s timestamp and is never more than
one bar interval behind it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tui_trader.sandbox.testing import make_fast, running_sandbox, wait_until

MINUTE = timedelta(minutes=1)
SLACK = timedelta(seconds=30)
"""Simulated time the reads and the pacer's wake-up may take at speed 60 (half a wall second,
on a loaded machine)."""


def _clients(sb: Any) -> tuple[Any, Any]:
    from alpaca.data.historical.stock import StockHistoricalDataClient
    from alpaca.trading.client import TradingClient

    trading = TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url)
    data = StockHistoricalDataClient(sb.key_id, sb.secret, url_override=sb.base_url)
    return make_fast(trading), make_fast(data)


def _newest_bars(data: Any, since: datetime) -> dict[str, datetime]:
    """The newest 1m bar's timestamp of SPY by each way of asking."""
    from alpaca.data.requests import StockBarsRequest, StockLatestBarRequest, StockSnapshotRequest
    from alpaca.data.timeframe import TimeFrame

    latest = data.get_stock_latest_bar(StockLatestBarRequest(symbol_or_symbols="SPY"))["SPY"]
    history = data.get_stock_bars(
        StockBarsRequest(symbol_or_symbols="SPY", timeframe=TimeFrame.Minute, start=since)
    )["SPY"]
    snap = data.get_stock_snapshot(StockSnapshotRequest(symbol_or_symbols="SPY"))["SPY"]
    return {
        "latest bar": latest.timestamp,
        "historical bars": history[-1].timestamp,
        "snapshot's minute bar": snap.minute_bar.timestamp,
    }


def test_bars_follow_the_clock_at_speed_60() -> None:
    """Over several paced bars, each read's newest bar ends at or before the clock read after
    it, and within one interval of the clock read before it."""
    with running_sandbox(speed=60.0, faults="rate_limit=0") as sb:  # reads as fast as they go
        trading, data = _clients(sb)
        since = trading.get_clock().timestamp - timedelta(minutes=10)
        seen: set[datetime] = set()

        def check() -> bool:
            before = trading.get_clock().timestamp
            newest = _newest_bars(data, since)
            after = trading.get_clock().timestamp
            for way, stamp in newest.items():
                assert stamp + MINUTE <= after, f"{way} {stamp} ends after the clock {after}"
                behind = before - (stamp + MINUTE)
                assert behind <= MINUTE + SLACK, f"{way} {stamp} is {behind} behind {before}"
            seen.add(newest["latest bar"])
            return len(seen) >= 3  # the reads saw the market move on twice

        wait_until(check, timeout=30, what="reads across three paced bars")
