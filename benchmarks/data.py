"""The benchmark's deterministic market: seeded 1-minute bars that every engine replays.

Prices are a seeded log-random walk rounded to the cent, and each bar opens at the previous
close (no gaps), so an all-in order sized at one bar's close always fits at the next bar's open:
every engine then fills exactly the same orders. Columns are numpy arrays (what the peers load).

Engines sum their moving averages differently (running sums, ``math.fsum``, pandas' rolling
mean), so a bar where SMA(10) equals SMA(30) exactly (common with prices in cents) would be decided
differently by each. The generator removes those ties by moving such a close by one cent, so the
comparison measures speed and not float summation order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

START = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
"""First bar's open time (UTC); bars follow one minute apart, around the clock."""
MINUTE_US = 60_000_000


@dataclass(frozen=True, slots=True)
class Series:
    """One symbol's bars as columns: open/high/low/close/volume and epoch microseconds."""

    symbol: str
    ts_us: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        """Number of bars."""
        return len(self.close)


def make_series(symbol: str, n: int, seed: int) -> Series:
    """``n`` one-minute bars of one symbol, the same for the same seed on every machine."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.0007, n)
    cents = np.maximum(np.round(10_000.0 * np.exp(np.cumsum(steps))), 1).astype(np.int64)
    _break_ties(cents)
    close = cents / 100.0
    open_ = np.empty(n)
    open_[0] = 100.0
    open_[1:] = close[:-1]
    wiggle = np.round(np.abs(rng.normal(0.0, 0.0003, n)) * close, 2)
    high = np.maximum(open_, close) + wiggle
    low = np.maximum(np.minimum(open_, close) - wiggle, 0.01)
    volume = rng.integers(100, 10_000, n).astype(np.float64)
    start_us = int(START.timestamp() * 1_000_000)
    ts_us = start_us + np.arange(n, dtype=np.int64) * MINUTE_US
    return Series(symbol, ts_us, open_, high, low, close, volume)


def make_universe(symbols: int, bars: int, seed: int = 2026) -> list[Series]:
    """``symbols`` series of ``bars`` bars each on the same timestamps (``S000``, ``S001``...)."""
    return [make_series(f"S{i:03d}", bars, seed + i) for i in range(symbols)]


def _break_ties(cents: np.ndarray, fast: int = 10, slow: int = 30) -> None:
    """Nudge closes by a cent until no bar has SMA(fast) exactly equal to SMA(slow), in place."""
    for _ in range(1_000):
        total = np.concatenate(([0], np.cumsum(cents)))
        idx = np.arange(slow - 1, len(cents))
        sum_fast = total[idx + 1] - total[idx + 1 - fast]
        sum_slow = total[idx + 1] - total[idx + 1 - slow]
        ties = idx[sum_fast * slow == sum_slow * fast]
        if len(ties) == 0:
            return
        cents[ties] += 1
    raise RuntimeError("could not break the moving-average ties")
