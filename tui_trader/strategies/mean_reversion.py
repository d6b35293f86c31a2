"""Mean reversion: buy a close stretched far below its average, expecting it to snap back.

The z-score is (close - SMA) / standard deviation over ``window`` closes, from running sums, so
each bar is O(1). Beyond ``entry`` standard deviations below the mean the target grows with the
stretch, ``min(1, -z / (2 * entry))``; above the mean it is flat (or short, when allowed).
"""

from __future__ import annotations

import math

from tui_trader.core.domain import Bar, Signal
from tui_trader.strategies.windows import RollingWindow

_REASON = "z{} {:+.2f} vs entry ±{:g}".format
_later = Signal.later
sqrt = math.sqrt


class MeanReversion:
    """Target grows as the close falls more than ``entry`` standard deviations below its SMA."""

    def __init__(self, window: int = 20, entry: float = 1.0, allow_short: bool = False) -> None:
        if window < 2 or entry <= 0:
            raise ValueError("mean reversion needs a window of 2+ bars and a positive entry")
        self.window = window
        self.entry = entry
        self.allow_short = allow_short
        self.name = "meanrev"
        self._windows: dict[str, RollingWindow] = {}

    def on_bar(self, bar: Bar) -> Signal:
        """Push the close, score it against the window, map the score to a target (the push,
        the window's mean and standard deviation worked out here, as ``RollingWindow`` does:
        this runs for every symbol and bar)."""
        try:  # a subscript, not ``.get``: no call for every symbol-bar
            w = self._windows[bar.symbol]
        except KeyError:
            w = self._windows[bar.symbol] = RollingWindow(self.window)
        close = bar.close
        values = w.values  # ``w.push(close)``, its sums in its order, without the call
        values.append(close)
        total = w.sum + close
        sumsq = w.sumsq + close * close
        n = len(values)
        window = self.window
        if n > window:
            old = values.popleft()
            total -= old
            sumsq -= old * old
            n = window
        w.sum, w.sumsq = total, sumsq
        if n < window:
            return Signal.warming(n, window)
        mean = total / n
        v = sumsq / n - mean * mean
        std = sqrt(0.0 if v < 0.0 else v)  # max(v, 0.0): the same comparison without the call
        z = (close - mean) / std if std > 0 else 0.0
        # long (or short) beyond ``entry``, scaled, capped at 1 (min(1.0, x) as it compares);
        # here, not in a function of its own: this runs for every symbol-bar
        entry = self.entry
        if z < -entry:
            size = -z / (2.0 * entry)
            target = size if size < 1.0 else 1.0
        elif self.allow_short and z > entry:
            size = z / (2.0 * entry)
            target = -(size if size < 1.0 else 1.0)
        else:
            target = 0.0
        return _later(target, _REASON, window, z, entry)
