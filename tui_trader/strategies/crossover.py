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
    """Running windows for one symbol: the last ``slow`` closes, the fast window being the end
    of the same deque (one deque to push to and pop from, not two)."""

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
        try:  # a subscript, not ``.get``: no call for every symbol-bar
            s = self._state[bar.symbol]
        except KeyError:
            s = self._state[bar.symbol] = _Averages()
        close = bar.close
        fast, slow = self.fast, self.slow
        closes = s.slow
        closes.append(close)
        n = len(closes)
        fast_sum = s.fast_sum + close
        if n > fast:  # the close leaving the fast window (still held: slow > fast)
            fast_sum -= closes[-fast - 1]
        slow_sum = s.slow_sum + close
        if n > slow:
            slow_sum -= closes.popleft()
        s.fast_sum, s.slow_sum = fast_sum, slow_sum
        if n < slow:
            return Signal.warming(n, slow)
        fast_avg = fast_sum / fast
        slow_avg = slow_sum / slow
        if fast_avg > slow_avg:
            return _later(1.0, _ABOVE, fast, fast_avg, slow, slow_avg)
        target = -1.0 if self.allow_short else 0.0
        return _later(target, _BELOW, fast, fast_avg, slow, slow_avg)
