"""Performance figures of an equity curve: the numbers ``learn evaluate`` compares runs by.

Pure functions over plain lists, so the evaluation and its tests need no engine and no database.
An equity curve here is the account's value after each trading bar, starting from 1.0 before the
first one; returns are the bar-to-bar changes of that curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Window:
    """A named stretch of market time (``--window NAME:FROM:TO``), both ends included."""

    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class WindowResult:
    """How a run did inside one window."""

    window: str
    return_pct: float
    max_drawdown_pct: float
    bars: int
    sharpe: float = 0.0


def sharpe(returns: list[float], bars_per_year: float) -> float:
    """Annualized Sharpe ratio of per-bar returns, no risk-free rate (0 when they never vary)."""
    n = len(returns)
    if n < 2:
        return 0.0
    mean = sum(returns) / n
    var = sum((r - mean) ** 2 for r in returns) / (n - 1)
    return mean / math.sqrt(var) * math.sqrt(bars_per_year) if var > 1e-18 else 0.0


def max_drawdown_pct(equity: list[float], start: float = 1.0) -> float:
    """The deepest fall from a running peak, in percent of that peak."""
    peak, worst = start, 0.0
    for value in equity:
        if value > peak:
            peak = value
        elif peak > 0:
            worst = max(worst, (peak - value) / peak)
    return 100.0 * worst


def under_water_pct(equity: list[float], start: float = 1.0) -> float:
    """Share of bars spent below an earlier peak, in percent (time under water)."""
    if not equity:
        return 0.0
    peak, below = start, 0
    for value in equity:
        if value >= peak:
            peak = value
        else:
            below += 1
    return 100.0 * below / len(equity)


def cagr_pct(final: float, years: float, start: float = 1.0) -> float:
    """Compound annual growth rate in percent over ``years`` (0 for no time or a wipe-out)."""
    if years <= 0 or final <= 0 or start <= 0:
        return 0.0
    return 100.0 * ((final / start) ** (1.0 / years) - 1.0)


def in_window(
    window: Window,
    times: list[datetime],
    equity: list[float],
    bars_per_year: float = 252.0,
    start: float = 1.0,
) -> WindowResult:
    """Return, drawdown and Sharpe of the part of the curve whose bar times fall in ``window``."""
    inside = [i for i, t in enumerate(times) if window.start <= t <= window.end]
    if not inside:
        return WindowResult(window.name, 0.0, 0.0, 0)
    first = inside[0]
    base = equity[first - 1] if first > 0 else start
    part = [equity[i] for i in inside]
    before = [base, *part[:-1]]
    returns = [now / then - 1.0 for now, then in zip(part, before, strict=True)]
    return WindowResult(
        window.name,
        100.0 * (part[-1] / base - 1.0),
        max_drawdown_pct(part, base),
        len(part),
        sharpe(returns, bars_per_year),
    )
