"""Weights that learn: multiplicative weights per regime, with a floor so no strategy is lost.

Each regime key (``bull/calm``, ``bear/volatile``, ... and ``all`` for every regime together)
holds one weight per strategy. After every scored bar the weights of the regime the bar was
traded in move by ``w <- w * exp(learning_rate * reward)`` (exponentiated gradient on the
volatility-scaled shadow rewards) and are normalized; any weight under ``floor`` is lifted to it
(the others shrink in proportion), so a strategy that did badly can come back when its regime
returns.
"""

from __future__ import annotations

import math

ALL_REGIMES = "all"
"""The key of the weights learned over every regime, used while a symbol's regime is unknown."""


def apply_floor(raw: dict[str, float], floor: float) -> dict[str, float]:
    """Normalize to sum 1 with every weight at least ``floor`` (others shrink proportionally)."""
    total = sum(raw.values())
    if total > 0:  # the common case, once per scored bar: nothing under the floor
        out = {n: w / total for n, w in raw.items()}
        if min(out.values()) >= floor:
            return out
    pinned: set[str] = set()
    while True:
        free = {n: w for n, w in raw.items() if n not in pinned}
        mass = 1.0 - floor * len(pinned)
        total = sum(free.values())
        if total <= 0:
            return {n: (floor if n in pinned else mass / len(free)) for n in raw}
        out = {n: (floor if n in pinned else mass * raw[n] / total) for n in raw}
        low = {n for n in free if out[n] < floor}
        if not low:
            return out
        pinned |= low


class RegimeWeights:
    """Per-regime strategy weights updated online."""

    def __init__(self, names: tuple[str, ...], learning_rate: float, floor: float) -> None:
        if not names:
            raise ValueError("need at least one strategy")
        if learning_rate < 0:
            raise ValueError("the learning rate cannot be negative")
        if not 0 <= floor * len(names) < 1:
            raise ValueError(f"the weight floor must be in [0, {1 / len(names):.3f})")
        self.names = names
        self.learning_rate = learning_rate
        self.floor = floor
        self.table: dict[str, dict[str, float]] = {}

    def uniform(self) -> dict[str, float]:
        """Equal weights."""
        return {name: 1.0 / len(self.names) for name in self.names}

    def get(self, regime: str) -> dict[str, float]:
        """The weights of a regime (uniform until it has learned anything)."""
        return self.table.get(regime) or self.uniform()

    def update(self, regime: str, rewards: dict[str, float]) -> None:
        """One exponentiated-gradient step on ``regime`` and on ``all``."""
        for key in (regime, ALL_REGIMES) if regime != ALL_REGIMES else (ALL_REGIMES,):
            self.table[key] = self._step(self.get(key), rewards)

    def _step(self, weights: dict[str, float], rewards: dict[str, float]) -> dict[str, float]:
        """Multiply, normalize, lift any weight under the floor up to it."""
        eta = self.learning_rate
        raw = {n: w * math.exp(eta * rewards.get(n, 0.0)) for n, w in weights.items()}
        return apply_floor(raw, self.floor)

    def restore(self, table: dict[str, dict[str, float]]) -> None:
        """Take saved weights (strategies the table lacks start at the floor, then renormalize)."""
        for regime, weights in table.items():
            merged = {n: max(weights.get(n, self.floor), 1e-12) for n in self.names}
            total = sum(merged.values())
            self.table[regime] = {n: w / total for n, w in merged.items()}
