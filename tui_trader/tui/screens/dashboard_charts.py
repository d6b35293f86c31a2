"""The dashboard's charts: equity on a market-time axis, and the drawdown under it.

plotext picks axis labels by dividing the data range evenly (``99929.2``, ``8.2``); these charts
set their own: round values (1, 2 or 5 times a power of ten) on the value axis, and the bars'
market time (dates for daily bars, clock times within a day) on the time axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from tui_trader.core.timeframes import NEW_YORK

TIME_TICKS = 3
"""Time labels under a chart (first, middle, last)."""
VALUE_TICKS = 4
"""About this many value labels."""


def nice_ticks(low: float, high: float, count: int = VALUE_TICKS) -> list[float]:
    """Round tick values covering ``low``..``high``: steps of 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high - low < 1e-9:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def value_label(value: float, step: float) -> str:
    """A tick's label: thousands separators, decimals only where the step needs them."""
    decimals = 0 if step >= 1 else min(max(-math.floor(math.log10(step)), 0), 4)
    return f"{value:,.{decimals}f}"


def time_labels(times: Sequence[datetime], daily: bool) -> tuple[list[int], list[str]]:
    """Positions and labels of the time axis: dates for daily bars, else clock times (with the
    date when the span covers more than a day)."""
    if not times:
        return [], []
    n = len(times)
    spots = sorted({0, (n - 1) // 2, n - 1})[:TIME_TICKS]
    first, last = times[0].astimezone(NEW_YORK), times[-1].astimezone(NEW_YORK)
    if daily:
        fmt = "%Y-%m-%d" if first.year != last.year else "%m-%d"
    else:
        fmt = "%H:%M" if first.date() == last.date() else "%m-%d %H:%M"
    return [i + 1 for i in spots], [times[i].astimezone(NEW_YORK).strftime(fmt) for i in spots]


def _axes(plt, values: Sequence[float], times: Sequence[datetime], daily: bool) -> None:
    """Round value ticks and market-time ticks."""
    ticks = nice_ticks(min(values), max(values))
    if len(ticks) >= 2:
        step = ticks[1] - ticks[0]
        plt.yticks(ticks, [value_label(t, step) for t in ticks])
    elif ticks:
        plt.yticks(ticks, [value_label(ticks[0], 1.0)])
    spots, labels = time_labels(times, daily)
    plt.xticks(spots, labels)


def plot_equity(plt, equity: Sequence[float], times: Sequence[datetime], daily: bool) -> None:
    """The equity curve on a market-time axis."""
    plt.clear_data()
    if not equity:
        return
    xs = list(range(1, len(equity) + 1))
    plt.plot(xs, list(equity), marker="braille", color="cyan")
    _axes(plt, equity, times, daily)


def plot_drawdown(plt, drawdown: Sequence[float], times: Sequence[datetime], daily: bool) -> None:
    """The drawdown below the peak, in percent, drawn downwards from zero."""
    plt.clear_data()
    if not drawdown:
        return
    xs = list(range(1, len(drawdown) + 1))
    values = [-d for d in drawdown]
    plt.plot(xs, values, marker="braille", color="red", fillx=True)
    low = min(min(values), -0.01)
    ticks = [low, 0.0]
    plt.yticks(ticks, [f"{low:.2f}%", "0%"])
    spots, labels = time_labels(times, daily)
    plt.xticks(spots, labels)
