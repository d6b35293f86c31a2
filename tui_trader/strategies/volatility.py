"""Volatility-aware trend: long above a slow average, sized down when volatility spikes.

Exposure is ``min(1, long-run vol / short-run vol)`` of the symbol's own bar-to-bar log
returns: full size in ordinary markets, smaller when the recent market is wilder than usual.
Interval-free (it compares the symbol with itself), O(1) per bar with running sums.
"""

from __future__ import annotations

import math
from collections import deque

from tui_trader.core.domain import Bar, Signal

_REASON = "close {} SMA{} {:.2f}, vol{}/vol{} {:.2f}".format
_later = Signal.later
sqrt = math.sqrt
log = math.log


class _Windows:
    """One symbol's running sums: the last ``trend`` closes, and the last ``long`` log returns
    with the last ``short`` of them (the end of the same deque). The sums are
    ``RollingWindow``'s (each value added, the one leaving subtracted, in that order), kept on
    one object: three windows' method calls cost more than the arithmetic."""

    __slots__ = (
        "close_sum",
        "closes",
        "last",
        "long_sum",
        "long_sumsq",
        "returns",
        "short_sum",
        "short_sumsq",
    )

    def __init__(self) -> None:
        self.closes: deque[float] = deque()
        self.close_sum = 0.0
        self.returns: deque[float] = deque()
        self.short_sum = self.short_sumsq = 0.0
        self.long_sum = self.long_sumsq = 0.0
        self.last = math.nan


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
        self._state: dict[str, _Windows] = {}

    def on_bar(self, bar: Bar) -> Signal:
        """Update the trend average and both volatility windows, then size the position."""
        try:  # a subscript, not ``.get``: no call for every symbol-bar
            w = self._state[bar.symbol]
        except KeyError:
            w = self._state[bar.symbol] = _Windows()
        close = bar.close
        trend, short, long = self.trend, self.short, self.long
        closes = w.closes
        closes.append(close)
        close_sum = w.close_sum + close
        n_sma = len(closes)
        if n_sma > trend:
            close_sum -= closes.popleft()
            n_sma = trend
        w.close_sum = close_sum
        prev = w.last
        w.last = close
        returns = w.returns
        # the sums in locals, written back once (each the same additions in the same order)
        short_sum, short_sumsq = w.short_sum, w.short_sumsq
        long_sum, long_sumsq = w.long_sum, w.long_sumsq
        if prev > 0:  # not NaN (the first bar) and positive
            ret = log(close / prev)
            squared = ret * ret
            returns.append(ret)
            short_sum += ret
            short_sumsq += squared
            long_sum += ret
            long_sumsq += squared
            n = len(returns)
            if n > short:  # the return leaving the short window (still held: long > short)
                old = returns[-short - 1]
                short_sum -= old
                short_sumsq -= old * old
            if n > long:
                old = returns.popleft()
                long_sum -= old
                long_sumsq -= old * old
            w.short_sum, w.short_sumsq = short_sum, short_sumsq
            w.long_sum, w.long_sumsq = long_sum, long_sumsq
        n_long = len(returns)
        if n_sma < trend or n_long < long:
            return Signal.warming(n_sma, max(trend, long + 1))
        mean = close_sum / n_sma
        above = close > mean
        # population standard deviations (both windows hold at least two values by now)
        # max(v, 0.0): the same comparison without the call
        m = short_sum / short
        v = short_sumsq / short - m * m
        short_std = sqrt(0.0 if v < 0.0 else v)
        m = long_sum / n_long
        v = long_sumsq / n_long - m * m
        long_std = sqrt(0.0 if v < 0.0 else v)
        # the direction from the trend, the size from the volatility ratio (here, not in a
        # function of its own: this runs for every symbol-bar); min(1.0, size) as it compares
        if above or self.allow_short:
            size = long_std / short_std if short_std > 0 else 1.0
            size = size if size < 1.0 else 1.0
            target = size if above else -size
        else:
            target = 0.0
        return _later(
            target,
            _REASON,
            ">" if above else "<=",
            trend,
            mean,
            short,
            long,
            short_std / long_std if long_std else 0,
        )
