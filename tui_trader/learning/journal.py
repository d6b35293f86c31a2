"""What the learning system knows, as plain values, and the port it is saved through.

``AdaptiveAllocator`` (``learning/allocator.py``) hands its learning out as a ``LearningState``
and takes one back at start-up; the store implements ``LearningJournal``
(``store/learning_journal.py``) to save it every decision cycle and find the latest again.
Kept apart from the allocator so that the store depends on these values, not on the
allocating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from tui_trader.learning.exposure import ExposureStats
from tui_trader.learning.regime import RegimeCall
from tui_trader.learning.shadow import ShadowStats


@dataclass(slots=True)
class LearningState:
    """Everything learned, as plain values: what the journal saves and restores."""

    weights: dict[str, dict[str, float]] = field(default_factory=dict)
    shadow: dict[str, dict[str, ShadowStats]] = field(default_factory=dict)
    regimes: dict[str, RegimeCall] = field(default_factory=dict)
    exposure: ExposureStats | None = None
    """The blend's record behind the learned exposure (``None``: nothing saved)."""


class LearningJournal(Protocol):
    """Where learning is saved each decision cycle and found again at start-up (the store)."""

    def load(self, strategies: tuple[str, ...]) -> LearningState | None:
        """The latest state saved for this set of strategies, if any."""
        ...

    def save(self, iteration: int, market_time: datetime, state: LearningState) -> None:
        """Write this cycle's weights, regime calls and shadow performance."""
        ...
