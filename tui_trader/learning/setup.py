"""Choosing how strategies are weighted: ``--weights adaptive|equal|STRATEGY``.

``adaptive`` (the default) learns weights per regime; ``equal`` blends every strategy of the
family equally; a strategy's name trades that strategy alone. Every front end and ``learn
evaluate`` build their strategies and allocator here, so they compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_trader.learning.allocator import AdaptiveAllocator
from tui_trader.learning.choices import (
    DEFAULT_FLOOR,
    DEFAULT_LEARNING_RATE,
    MAX_LEARNING_RATE,
    WEIGHT_MODES,
)
from tui_trader.learning.journal import LearningJournal
from tui_trader.strategies import Allocator, FixedWeights, Strategy
from tui_trader.strategies.family import STRATEGY_NAMES, build_strategies


@dataclass(frozen=True, slots=True)
class LearningSettings:
    """How the strategies are combined and how fast the adaptive weights learn."""

    weights: str = "adaptive"
    learning_rate: float = DEFAULT_LEARNING_RATE
    weight_floor: float = DEFAULT_FLOOR
    cost_bps: float = 10.0
    """Cost per unit of target turnover charged to each strategy's shadow record."""

    def problems(self) -> dict[str, str]:
        """What is wrong with each setting, by field (``weights``, ``learning_rate``,
        ``weight_floor``); empty when all is well. The desk shows each beside its field."""
        out: dict[str, str] = {}
        if self.weights not in WEIGHT_MODES:
            out["weights"] = f"unknown {self.weights!r} (use one of {', '.join(WEIGHT_MODES)})"
        if not 0 <= self.learning_rate <= MAX_LEARNING_RATE:
            out["learning_rate"] = (
                f"must be between 0 and {MAX_LEARNING_RATE:g} (the default is "
                f"{DEFAULT_LEARNING_RATE:g}; larger steps overflow the weights' update)"
            )
        floor_max = 1.0 / len(STRATEGY_NAMES)
        if not 0 <= self.weight_floor < floor_max:
            out["weight_floor"] = f"must be at least 0 and below {floor_max:g}"
        return out

    def check(self) -> str | None:
        """A sentence saying what is wrong with the settings (the first problem, named by its
        command-line option), or ``None``."""
        for name, problem in self.problems().items():
            return f"--{name.replace('_', '-')} {problem}"
        return None


def build_allocation(
    settings: LearningSettings,
    allow_short: bool = False,
    journal: LearningJournal | None = None,
) -> tuple[list[Strategy], Allocator]:
    """The strategies to run and the allocator that blends them, as ``settings.weights`` says."""
    problem = settings.check()
    if problem:
        raise ValueError(problem)
    strategies = build_strategies(allow_short)
    if settings.weights == "equal":
        return strategies, FixedWeights(dict.fromkeys(STRATEGY_NAMES, 1.0))
    if settings.weights != "adaptive":
        alone = [s for s in strategies if s.name == settings.weights]
        return alone, FixedWeights({settings.weights: 1.0})
    allocator = AdaptiveAllocator(
        STRATEGY_NAMES,
        learning_rate=settings.learning_rate,
        floor=settings.weight_floor,
        cost_bps=settings.cost_bps,
        journal=journal,
    )
    allocator.load()
    return strategies, allocator
