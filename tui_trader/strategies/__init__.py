"""Strategies: each turns one symbol's bars into a target exposure and a one-line reason.

A strategy is incremental: ``on_bar`` does O(1) work per bar and keeps its own per-symbol state,
so the live path stays cheap however long a session runs. The engine asks an ``Allocator`` to
blend the strategies' signals into one target per symbol; the fixed-weight allocator lives here,
the learning one in ``tui_trader.learning``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from tui_trader.core.domain import Bar, Signal, Warming


class Strategy(Protocol):
    """A per-bar signal generator for any number of symbols."""

    name: str
    """Stable identifier, used in rationales, weights tables and ``--weights``."""

    def on_bar(self, bar: Bar) -> Signal:
        """Take the next completed bar of ``bar.symbol``; return the target exposure now."""
        ...


class Allocator(Protocol):
    """Blends the strategies' signals for one symbol into the target the engine trades."""

    def allocate(self, symbol: str, signals: dict[str, Signal]) -> Signal:
        """One target in [-1, 1] with a reason naming the weights behind it."""
        ...


@runtime_checkable
class LearningAllocator(Allocator, Protocol):
    """An allocator that learns: the engine feeds it every bar and the account's risk."""

    risk_scale: float
    """The share of the blended targets traded now (``set_risk``): 1 at full exposure, less
    as the account's drawdown nears its limit, 0 when halted."""
    risk_note: str
    """Why ``risk_scale`` is under 1, in plain words; empty at full exposure."""

    def observe(self, bar: Bar, signals: dict[str, Signal]) -> None:
        """Every bar (warm-up included) with every strategy's signal for it."""
        ...

    def observe_cycle(self, bars: Sequence[tuple[Bar, dict[str, Signal]]]) -> None:
        """``observe`` for each of a cycle's bars, in order (what the engine calls)."""
        ...

    def start_trading(self) -> None:
        """Warm-up is over; called once when the session starts trading."""
        ...

    def set_risk(self, drawdown_pct: float, max_drawdown_pct: float, halted: bool) -> None:
        """The account's drawdown against its limit, before each cycle's allocations."""
        ...

    def end_cycle(self, iteration: int, market_time: datetime) -> None:
        """A decision cycle is done: persist what was learned."""
        ...

    def regimes(self) -> dict[str, str]:
        """The regime call per symbol, for the iteration report."""
        ...

    def current_weights(self) -> dict[str, float]:
        """The weight per strategy behind the latest targets, for the iteration report."""
        ...


class FixedWeights:
    """A weighted average of the strategies' targets with constant weights."""

    def __init__(self, weights: dict[str, float]) -> None:
        total = sum(w for w in weights.values() if w > 0)
        if total <= 0:
            raise ValueError("at least one strategy needs a positive weight")
        self.weights = {name: max(w, 0.0) / total for name, w in weights.items()}

    def allocate(self, symbol: str, signals: dict[str, Signal]) -> Signal:
        """Average the targets by weight; the reason lists each contributing strategy."""
        target = ready = 0.0
        used = []
        warming = False
        for name, signal in signals.items():
            weight = self.weights.get(name, 0.0)
            if weight <= 0:
                continue
            if type(signal) is Warming:  # no opinion yet: its weight goes to the others
                warming = True
                continue
            target += weight * signal.target
            ready += weight
            used.append((name, weight, signal))
        if warming:
            target = target / ready if ready > 0 else 0.0
        target = target if target < 1.0 else 1.0  # max(-1, min(1, target)) without two calls
        target = target if target > -1.0 else -1.0  # (NaN gives 1.0 and -0.0 stays, as before)
        return Signal.later(target, _fixed_reason, used)


def _fixed_reason(used: list[tuple[str, float, Signal]]) -> str:
    """Each contributing strategy with its weight and its own reason."""
    return "; ".join(f"{name} w={weight:.2f}: {signal.reason}" for name, weight, signal in used)
