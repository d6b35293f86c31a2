"""A replay makes each timestamp's ``Bar``s when it hands them out (issue 17): a chunk's worth
(4,096 timestamps x every symbol) kept alive at once was scanned again and again by Python's
garbage collector, ~2.5% of a 100-symbol replay's CPU time."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market import replay
from tui_trader.market.replay import ReplayMarket

SYMBOLS = ("AAA", "BBB", "CCC", "DDD", "EEE")


def _market(steps: int) -> ReplayMarket:
    """One-minute bars of ``SYMBOLS`` for ``steps`` timestamps; a one-day warm-up (390)."""
    start = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    rows = [
        (start + timedelta(minutes=i), s, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i + k, 10 * i)
        for i in range(steps)
        for k, s in enumerate(SYMBOLS)
    ]
    frame = pl.DataFrame(
        rows, schema=["timestamp", "symbol", "open", "high", "low", "close", "volume"], orient="row"
    ).with_columns(pl.col("volume").cast(pl.Float64))
    return ReplayMarket(frame, "test", interval=parse_interval("1m"), period=parse_period("1d"))


def _bars_alive() -> int:
    """``Bar`` objects the garbage collector can see right now."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is Bar)


def test_only_the_bars_handed_out_are_alive() -> None:
    """After the warm-up and a few timestamps, with what was handed out dropped, only the
    timestamp in hand has live bars, not the rest of its chunk."""
    before = _bars_alive()
    market = _market(1_000)
    market.warmup()
    for _ in range(3):
        market.next_bars()
    held = market.next_bars()
    assert held is not None and len(held) == len(SYMBOLS)
    assert _bars_alive() - before <= len(SYMBOLS)


def test_every_bar_comes_in_order_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """With chunks of 7 timestamps, every timestamp after the warm-up comes once, in order,
    each bar with its row's values, then the replay ends."""
    monkeypatch.setattr(replay, "CHUNK_STEPS", 7)
    market = _market(430)
    market.warmup()
    seen = []
    while (bars := market.next_bars()) is not None:
        seen.append(bars)
    assert len(seen) == 40
    for i, bars in enumerate(seen, start=390):
        assert list(bars) == list(SYMBOLS)
        assert [b.close for b in bars.values()] == [100.5 + i + k for k in range(len(SYMBOLS))]
        assert {b.timestamp for b in bars.values()} == {
            datetime(2024, 1, 2, 14, 30, tzinfo=UTC) + timedelta(minutes=i)
        }
        assert [b.volume for b in bars.values()] == [10.0 * i] * len(SYMBOLS)
