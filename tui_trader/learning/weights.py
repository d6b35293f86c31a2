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
from operator import mul

ALL_REGIMES = "all"
"""The key of the weights learned over every regime, used while a symbol's regime is unknown."""


def apply_floor(raw: dict[str, float], floor: float) -> dict[str, float]:
    """Normalize to sum 1 with every weight at least ``floor`` (others shrink proportionally)."""
    return dict(zip(raw, floor_shares(list(raw.values()), floor), strict=True))


def floor_shares(raw: list[float], floor: float) -> list[float]:
    """``apply_floor`` on a list of weights (the per-bar path keeps them in ``names`` order)."""
    total = sum(raw)
    if total > 0:  # the common case, once per scored bar: nothing under the floor
        out = [w / total for w in raw]
        if min(out) >= floor:
            return out
        return _pin(raw, out, floor)
    return [1.0 / len(raw) for _ in raw]  # nothing to share out in proportion: all equal


def _pin(raw: list[float], out: list[float], floor: float) -> list[float]:
    """Pin the weights under the floor to it and share the rest out in proportion, until none
    is left under it. ``out`` is the first pass (``raw`` normalized, nothing pinned yet).

    A pinned weight sits at the floor, never under it, so a pass pins what it finds under the
    floor plus what was pinned before; it ends when a pass pins nothing new. One weight in five
    is pinned on a typical bar once the weights have settled, so this runs on about a fifth of
    the steps: it works on whole lists rather than index by index."""
    pinned = [w < floor for w in out]
    count = pinned.count(True)
    if count == 1:  # most often one weight is under the floor and no other falls under it
        i = pinned.index(True)
        mass = 1.0 - floor * count
        total = sum(raw[:i] + raw[i + 1 :])  # the others, in order: the loop's sum
        if total > 0:
            out = [mass * w / total for w in raw]
            out[i] = floor
            if min(out) >= floor:  # (else the loop below works it out from the start)
                return out
    # Else pass by pass over the indices not pinned yet (two or more pinned: a fifth of the
    # calls, once the weights settle), with the same sums and quotients in the same order.
    n = len(raw)
    free = [i for i, p in enumerate(pinned) if not p]
    while True:
        count = n - len(free)
        mass = 1.0 - floor * count
        total = sum([raw[i] for i in free])
        out = [floor] * n
        if total <= 0:
            share = mass / (n - count)
            for i in free:
                out[i] = share
            return out
        kept = []
        for i in free:
            w = out[i] = mass * raw[i] / total
            if not w < floor:
                kept.append(i)
        if len(kept) == len(free):
            return out
        free = kept


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
        self._table: dict[str, dict[str, float]] = {}
        self._rows: dict[str, list[float]] = {}
        """Per key ``step_factors`` stepped last: its weights in ``names`` order. The per-bar
        step keeps these lists and builds a key's dict only when the table is next read (once
        per bar time rather than once per symbol-bar)."""
        self._made: dict[str, dict[str, float] | None] = {}
        """Per key of ``_rows``: the table entry its row stands for (the dict built from it, or
        the entry it replaced until the table is next read). Any other entry there was set by
        hand, and wins over the row."""
        self._stale: set[str] = set()
        """Keys whose row is newer than their table entry."""
        self._uniform = [1.0 / len(names) for _ in names]

    @property
    def table(self) -> dict[str, dict[str, float]]:
        """Every regime's weights by name (``all`` too): what allocating, saving and the
        reports read. An entry set here by hand is stepped by name from then on."""
        stale = self._stale
        if stale:
            table, made, names = self._table, self._made, self.names
            for key in stale:
                if table.get(key) is made[key]:
                    table[key] = made[key] = dict(zip(names, self._rows[key], strict=True))
                else:  # set by hand since the step: that entry wins
                    del self._rows[key], made[key]
            stale.clear()
        return self._table

    def row(self, regime: str) -> list[float] | None:
        """The weights of ``regime`` in ``names`` order without building its dict (uniform
        until it has learned anything), or ``None`` if its entry was set by hand."""
        row = self._rows.get(regime)
        if row is not None:
            return row if self._table.get(regime) is self._made[regime] else None
        return self._uniform if regime not in self._table else None

    def uniform(self) -> dict[str, float]:
        """Equal weights."""
        return {name: 1.0 / len(self.names) for name in self.names}

    def get(self, regime: str) -> dict[str, float]:
        """The weights of a regime (uniform until it has learned anything)."""
        return self.table.get(regime) or self.uniform()

    def update(self, regime: str, rewards: dict[str, float]) -> None:
        """One exponentiated-gradient step on ``regime`` and on ``all``."""
        eta = self.learning_rate
        get = rewards.get
        self.step_factors(regime, [math.exp(eta * get(n, 0.0)) for n in self.names], rewards)

    def step_factors(
        self, regime: str, factors: list[float], rewards: dict[str, float] | None = None
    ) -> None:
        """``update`` with each strategy's ``exp(learning_rate * reward)`` worked out once for
        both keys (in ``names`` order): the allocator's per-bar path. ``rewards`` by name are
        needed only if a weights table was set by hand with other names."""
        table = self._table
        rows, made, stale = self._rows, self._made, self._stale
        floor = self.floor
        for key in (regime, ALL_REGIMES) if regime != ALL_REGIMES else (ALL_REGIMES,):
            row = rows.get(key)
            if row is None or table.get(key) is not made[key]:  # not (or no longer) a row
                entry = table.get(key)
                weights = entry or self.uniform()
                if tuple(weights) != self.names:  # set by hand with other names or order
                    table[key] = self._step_by_name(weights, factors, rewards)
                    if row is not None:
                        del rows[key], made[key]
                        stale.discard(key)
                    continue
                row = list(weights.values())
                made[key] = entry
            raw = list(map(mul, row, factors))
            total = sum(raw)
            if total > 0:  # ``floor_shares``, its common case inline (twice a symbol-bar)
                out = [w / total for w in raw]
                low = out[0]  # min(out) as ``min`` finds it, without the builtin's call
                for w in out:  # (its argument parsing: ~1,900 instructions for five floats)
                    if w < low:
                        low = w
                rows[key] = out if low >= floor else _pin(raw, out, floor)
            else:
                rows[key] = floor_shares(raw, floor)
            stale.add(key)

    def _step_by_name(
        self, weights: dict[str, float], factors: list[float], rewards: dict[str, float] | None
    ) -> dict[str, float]:
        """Multiply, normalize, lift any weight under the floor up to it, by name."""
        if rewards is None:  # the factors are all there is (``names`` order)
            by_name = dict(zip(self.names, factors, strict=True))
            raw = {n: w * by_name.get(n, 1.0) for n, w in weights.items()}
        else:
            eta = self.learning_rate
            raw = {n: w * math.exp(eta * rewards.get(n, 0.0)) for n, w in weights.items()}
        return apply_floor(raw, self.floor)

    def restore(self, table: dict[str, dict[str, float]]) -> None:
        """Take saved weights (strategies the table lacks start at the floor, then renormalize)."""
        for regime, weights in table.items():
            merged = {n: max(weights.get(n, self.floor), 1e-12) for n in self.names}
            total = sum(merged.values())
            self.table[regime] = {n: w / total for n, w in merged.items()}
