"""The Parquet bar cache: merge without duplicates, coverage, listing, clearing, location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tui_trader.market import MarketDataError
from tui_trader.market.cache import CACHE_ENV, BarCache, default_cache_dir

T0 = datetime(2025, 6, 2, 13, 30, tzinfo=UTC)


def bars(days: range, close: float = 10.0) -> pl.DataFrame:
    """Daily SPY bars on the given day offsets from ``T0``."""
    n = len(days)
    return pl.DataFrame(
        {
            "timestamp": [T0 + timedelta(days=d) for d in days],
            "symbol": ["SPY"] * n,
            "open": [10.0] * n,
            "high": [11.0] * n,
            "low": [9.0] * n,
            "close": [close] * n,
            "adj_close": [close] * n,
            "volume": [100.0] * n,
        }
    )


def test_merge_overlapping_downloads_keeps_one_row_per_timestamp(tmp_path: Path) -> None:
    cache = BarCache(tmp_path)
    cache.merge("SPY", "1d", bars(range(0, 5)), T0, T0 + timedelta(days=5))
    merged = cache.merge(
        "SPY", "1d", bars(range(3, 8), close=10.5), T0 + timedelta(days=3), T0 + timedelta(days=8)
    )
    stamps = merged.get_column("timestamp")
    assert stamps.to_list() == [T0 + timedelta(days=d) for d in range(8)]
    assert merged.get_column("close").to_list() == [10.0] * 3 + [10.5] * 5  # newer rows win
    again = cache.merge(
        "SPY", "1d", bars(range(3, 8), close=10.5), T0 + timedelta(days=3), T0 + timedelta(days=8)
    )
    assert again.equals(merged)
    covered = cache.coverage("SPY", "1d")
    assert covered is not None
    assert (covered.covered_from, covered.covered_to) == (T0, T0 + timedelta(days=8))


def test_entries_clear_and_load(tmp_path: Path) -> None:
    cache = BarCache(tmp_path)
    cache.merge("SPY", "1d", bars(range(3)), T0, T0 + timedelta(days=3))
    cache.merge("QQQ", "1d", bars(range(2)).with_columns(symbol=pl.lit("QQQ")), T0, T0)
    cache.merge("SPY", "5m", bars(range(1)), T0, T0)
    entries = cache.entries()
    assert [(e.symbol, e.interval, e.rows) for e in entries] == [
        ("QQQ", "1d", 2),
        ("SPY", "1d", 3),
        ("SPY", "5m", 1),
    ]
    assert all(e.size_bytes > 0 and e.first == T0 for e in entries)
    assert cache.load(["SPY", "QQQ"], "1d").height == 5
    assert cache.clear(["SPY"], "1d") == 1
    assert [(e.symbol, e.interval) for e in cache.entries()] == [("QQQ", "1d"), ("SPY", "5m")]
    assert cache.clear() == 2 and cache.entries() == []


def test_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    cache = BarCache(tmp_path)
    path = cache.path("SPY", "1d")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not parquet")
    with pytest.raises(MarketDataError, match="damaged cache file"):
        cache.read("SPY", "1d")


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    assert BarCache().root == tmp_path / "elsewhere"
