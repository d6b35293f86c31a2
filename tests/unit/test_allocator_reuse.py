"""What the allocator reuses between calls must never go stale.

``allocate`` reuses a regime's weights (streak cap applied) until the weight table, the streak
or the exposures move, and works the long trend's lead and the learned exposure out once per bar
time. A weight table set by hand, or a losing streak reaching its limit, between two calls of
the same bar time counts at the next call; what the next bar time brings counts at its first.
"""

from __future__ import annotations

from tests.unit.series import bars_from_closes
from tui_trader.core.domain import Signal
from tui_trader.learning.allocator import AdaptiveAllocator
from tui_trader.learning.exposure import ExposureStats
from tui_trader.learning.weights import ALL_REGIMES


def _bold_and_timid() -> dict[str, Signal]:
    return {"bold": Signal(1.0, "all in"), "timid": Signal(0.0, "out")}


def test_weights_set_by_hand_and_the_streak_count_within_one_bar_time() -> None:
    allocator = AdaptiveAllocator(("bold", "timid"), learning_rate=0.0, streak=3)
    (bar,) = bars_from_closes([100.0])
    allocator.observe(bar, _bold_and_timid())

    def target() -> float:
        return allocator.allocate(bar.symbol, _bold_and_timid()).target

    assert target() == 0.5  # equal weights, learning frozen: half of the bold one's target
    allocator.weights.table[ALL_REGIMES] = {"bold": 0.9, "timid": 0.1}
    assert target() == 0.9  # the table set by hand counts at once
    allocator.losing_streak = 3  # the bold one is the aggressive one: capped at an equal share
    capped = allocator.allocate(bar.symbol, _bold_and_timid())
    assert capped.target == 0.5
    assert "losing streak" in capped.reason
    allocator.losing_streak = 0
    assert target() == 0.9
    allocator.weights.restore({ALL_REGIMES: {"bold": 0.2, "timid": 0.8}})
    assert target() == 0.2  # restored weights count at once too


def test_a_new_bar_time_brings_the_exposure_learned_since() -> None:
    allocator = AdaptiveAllocator(("long",), learning_rate=0.3)
    first, second = bars_from_closes([100.0, 101.0])
    signals = {"long": Signal(1.0, "long")}
    allocator.observe(first, signals)
    assert allocator.allocate("TEST", signals).target == 1.0
    # A record of a blend that lost: half Kelly says hold none of it, and it is well proven.
    allocator.exposure.stats = ExposureStats(bars=1_000_000, total=-1.0, squares=1.0)
    assert allocator.allocate("TEST", signals).target == 1.0  # worked out once per bar time
    allocator.observe(second, signals)
    cut = allocator.allocate("TEST", signals)
    assert cut.target < 0.01
    assert "learned exposure" in cut.reason
