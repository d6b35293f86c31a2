"""Rolling windows with running sums: the O(1)-per-bar building block of every strategy.

A window keeps the last ``size`` values and their sum and sum of squares, so its mean and
(population) standard deviation cost O(1) per new value however long a session runs.
"""

from __future__ import annotations

import math
from collections import deque


class RollingWindow:
    """The last ``size`` values with running sum and sum of squares."""

    __slots__ = ("size", "sum", "sumsq", "values")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a rolling window needs at least one value")
        self.size = size
        self.values: deque[float] = deque()
        self.sum = 0.0
        self.sumsq = 0.0

    def push(self, value: float) -> None:
        """Add a value, dropping the oldest once the window is full."""
        self.values.append(value)
        self.sum += value
        self.sumsq += value * value
        if len(self.values) > self.size:
            old = self.values.popleft()
            self.sum -= old
            self.sumsq -= old * old

    @property
    def full(self) -> bool:
        """True once the window holds ``size`` values."""
        return len(self.values) >= self.size

    @property
    def mean(self) -> float:
        """Average of the values held (0 when empty)."""
        n = len(self.values)
        return self.sum / n if n else 0.0

    @property
    def std(self) -> float:
        """Population standard deviation of the values held (0 when fewer than two)."""
        n = len(self.values)
        if n < 2:
            return 0.0
        mean = self.sum / n
        return math.sqrt(max(self.sumsq / n - mean * mean, 0.0))

    @property
    def oldest(self) -> float:
        """The first value still in the window."""
        return self.values[0]
