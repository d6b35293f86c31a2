"""Constructed price series a trader can picture: a steady uptrend, a crash, a flat noisy market."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from tui_trader.core.domain import Bar

START = datetime(2025, 1, 2, 14, 30, tzinfo=UTC)


def bars_from_closes(closes: list[float], symbol: str = "TEST") -> list[Bar]:
    """Daily bars whose closes are ``closes`` (open at the previous close)."""
    out = []
    prev = closes[0]
    for i, close in enumerate(closes):
        high, low = max(prev, close) * 1.002, min(prev, close) * 0.998
        out.append(Bar(symbol, START + timedelta(days=i), prev, high, low, close, 1e6))
        prev = close
    return out


def uptrend(n: int = 150, daily: float = 0.004, noise: float = 0.004, seed: int = 1) -> list[float]:
    """A steady climb (about +0.4% a day) with small day-to-day noise."""
    rng = random.Random(seed)
    price, out = 100.0, []
    for _ in range(n):
        price *= math.exp(daily + rng.gauss(0.0, noise))
        out.append(price)
    return out


def flat_noisy(n: int = 150, noise: float = 0.01, seed: int = 2) -> list[float]:
    """A market going nowhere: closes scatter around 100 with 1% noise."""
    rng = random.Random(seed)
    return [100.0 * math.exp(rng.gauss(0.0, noise)) for _ in range(n)]


def crash(calm: int = 120, falling: int = 20, seed: int = 3) -> list[float]:
    """A calm gentle uptrend, then a crash: -3% a day with 4% daily swings."""
    rng = random.Random(seed)
    closes = uptrend(calm, daily=0.001, noise=0.006, seed=seed)
    price = closes[-1]
    for _ in range(falling):
        price *= math.exp(-0.03 + rng.gauss(0.0, 0.04))
        closes.append(price)
    return closes


def feed(strategy, closes: list[float]) -> list:
    """Every signal a strategy gives over the series."""
    return [strategy.on_bar(bar) for bar in bars_from_closes(closes)]
