"""Trend following by moving-average crossover: long while the fast average is above the slow.

Both averages are running sums over a fixed window, so each bar costs O(1) however long the
session. Until the slow window is full the strategy stays flat and says it is warming up.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tui_trader.core.domain import Bar, Signal

_ABOVE = "SMA{} {:.2f} > SMA{} {:.2f}".format
_BELOW = "SMA{} {:.2f} <= SMA{} {:.2f}".format
_later = Signal.later  # looked up once: this runs for every symbol and bar


@dataclass(slots=True)
class _Averages:
    """Running windows for one symbol."""

    fast: deque[float] = field(default_factory=deque)
    slow: deque[float] = field(default_factory=deque)
    fast_sum: float = 0.0
    slow_sum: float = 0.0


class MovingAverageCrossover:
    """Target +1 when SMA(fast) > SMA(slow), else 0 (or -1 when shorting is allowed)."""

    def __init__(
        self, fast: int = 10, slow: int = 30, allow_short: bool = False, name: str = "trend"
    ) -> None:
        if not 0 < fast < slow:
            raise ValueError("the fast window must be positive and shorter than the slow one")
        self.fast = fast
        self.slow = slow
        self.allow_short = allow_short
        self.name = name
        self._state: dict[str, _Averages] = {}

    def on_bar(self, bar: Bar) -> Signal:
        """Update both averages with the close and compare them."""
        s = self._state.get(bar.symbol)
        if s is None:
            s = self._state[bar.symbol] = _Averages()
        close = bar.close
        fast, slow = self.fast, self.slow
        s.fast.append(close)
        s.fast_sum += close
        if len(s.fast) > fast:
            s.fast_sum -= s.fast.popleft()
        closes = s.slow
        closes.append(close)
        s.slow_sum += close
        n = len(closes)
        if n > slow:
            s.slow_sum -= closes.popleft()
        elif n < slow:
            return Signal.warming(n, slow)
        fast_avg = s.fast_sum / fast
        slow_avg = s.slow_sum / slow
        if fast_avg > slow_avg:
            return _later(1.0, _ABOVE, fast, fast_avg, slow, slow_avg)
        target = -1.0 if self.allow_short else 0.0
        return _later(target, _BELOW, fast, fast_avg, slow, slow_avg)
