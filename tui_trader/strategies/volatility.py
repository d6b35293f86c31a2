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


_REASON = "close {} SMA{} {:.2f}, vol{}/vol{} {:.2f}".format
_later = Signal.later
sqrt = math.sqrt


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
        """Update the trend average and both volatility windows, then size the position.

        The windows' fill checks, mean and standard deviations are ``RollingWindow``'s own
        arithmetic, done here on its fields: this runs for every symbol and bar, and the
        property calls cost more than the sums."""
        state = self._state.get(bar.symbol)
        if state is None:
            state = self._state[bar.symbol] = (
                RollingWindow(self.trend),
                RollingWindow(self.short),
                RollingWindow(self.long),
                [math.nan],
            )
        sma, short, long, last = state
        close = bar.close
        sma.push(close)
        prev = last[0]
        if prev > 0:  # not NaN (the first bar) and positive
            ret = math.log(close / prev)
            short.push(ret)
            long.push(ret)
        last[0] = close
        n_long = len(long.values)
        n_sma = len(sma.values)
        if n_sma < sma.size or n_long < long.size:
            return Signal.warming(n_sma, max(self.trend, self.long + 1))
        mean = sma.sum / n_sma
        above = close > mean
        # ``RollingWindow.std`` of each (both hold at least two values by now)
        n = len(short.values)
        m = short.sum / n
        short_std = sqrt(max(short.sumsq / n - m * m, 0.0))
        m = long.sum / n_long
        long_std = sqrt(max(long.sumsq / n_long - m * m, 0.0))
        target = vol_scaled_target(above, short_std, long_std, self.allow_short)
        return _later(
            target,
            _REASON,
            ">" if above else "<=",
            self.trend,
            mean,
            self.short,
            self.long,
            short_std / long_std if long_std else 0,
        )
