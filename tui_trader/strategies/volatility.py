"""Volatility-aware trend: long above a slow average, sized down when volatility spikes.

Exposure is ``min(1, long-run vol / short-run vol)`` of the symbol's own bar-to-bar log
returns: full size in ordinary markets, smaller when the recent market is wilder than usual.
Interval-free (it compares the symbol with itself), O(1) per bar with running sums.
"""

from __future__ import annotations

import math

from tui_trader.core.domain import Bar, Signal
from tui_trader.strategies.windows import RollingWindow


def vol_scaled_target(above: bool, short_vol: float, long_vol: float, allow_short: bool) -> float:
    """The direction from the trend, the size from the volatility ratio."""
    size = min(1.0, long_vol / short_vol) if short_vol > 0 else 1.0
    if above:
        return size
    return -size if allow_short else 0.0


class VolatilityTargeted:
    """Target ``min(1, vol_long / vol_short)`` while the close is above SMA(``trend``)."""

    def __init__(
        self, trend: int = 50, short: int = 10, long: int = 60, allow_short: bool = False
    ) -> None:
        if not (trend >= 2 and 2 <= short < long):
            raise ValueError("need trend >= 2 and 2 <= short < long windows")
        self.trend = trend
        self.short = short
        self.long = long
        self.allow_short = allow_short
        self.name = "volatility"
        self._state: dict[str, tuple[RollingWindow, RollingWindow, RollingWindow, list[float]]] = {}

    def on_bar(self, bar: Bar) -> Signal:
        """Update the trend average and both volatility windows, then size the position."""
        state = self._state.get(bar.symbol)
        if state is None:
            state = self._state[bar.symbol] = (
                RollingWindow(self.trend),
                RollingWindow(self.short),
                RollingWindow(self.long),
                [math.nan],
            )
        sma, short, long, last = state
        sma.push(bar.close)
        if not math.isnan(last[0]) and last[0] > 0:
            ret = math.log(bar.close / last[0])
            short.push(ret)
            long.push(ret)
        last[0] = bar.close
        if not (sma.full and long.full):
            need = max(self.trend, self.long + 1)
            return Signal.warming(len(sma.values), need)
        mean = sma.mean
        above = bar.close > mean
        short_std, long_std = short.std, long.std
        target = vol_scaled_target(above, short_std, long_std, self.allow_short)
        return Signal.later(
            target,
            "close {} SMA{} {:.2f}, vol{}/vol{} {:.2f}".format,
            ">" if above else "<=",
            self.trend,
            mean,
            self.short,
            self.long,
            short_std / long_std if long_std else 0,
        )
