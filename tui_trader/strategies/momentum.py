"""Momentum: long while the rate of change over ``lookback`` bars is above a threshold.

Keeps the last ``lookback + 1`` closes per symbol, so each bar costs O(1). Flat (or short, when
allowed) once momentum fades below the threshold; flat while warming up.
"""

from __future__ import annotations

from collections import deque

from tui_trader.core.domain import Bar, Signal

_ABOVE = "ROC{} {:+.1f}% > {:g}%".format
_BELOW = "ROC{} {:+.1f}% < -{:g}%".format
_FLAT = "ROC{} {:+.1f}%: no momentum".format
_later = Signal.later  # looked up once: this runs for every symbol and bar


class Momentum:
    """Target +1 when close / close ``lookback`` bars ago - 1 > ``threshold``."""

    def __init__(self, lookback: int = 20, threshold: float = 0.0, allow_short: bool = False):
        if lookback < 1:
            raise ValueError("the momentum lookback must be at least one bar")
        self.lookback = lookback
        self.threshold = threshold
        self.allow_short = allow_short
        self.name = "momentum"
        self._closes: dict[str, deque[float]] = {}

    def on_bar(self, bar: Bar) -> Signal:
        """Push the close and compare it with the one ``lookback`` bars back."""
        try:  # a subscript, not ``.get``: no call for every symbol-bar
            closes = self._closes[bar.symbol]
        except KeyError:
            closes = self._closes[bar.symbol] = deque(maxlen=self.lookback + 1)
        close = bar.close
        closes.append(close)
        lookback = self.lookback
        n = len(closes)
        if n <= lookback:
            return Signal.warming(n, lookback + 1)
        roc = close / closes[0] - 1.0
        threshold = self.threshold
        pct = 100 * threshold
        if roc > threshold:
            return _later(1.0, _ABOVE, lookback, 100 * roc, pct)
        if self.allow_short and roc < -threshold:
            return _later(-1.0, _BELOW, lookback, 100 * roc, pct)
        return _later(0.0, _FLAT, lookback, 100 * roc)
