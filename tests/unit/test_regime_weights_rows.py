"""The weight step keeps each regime's weights as a list and builds the table's dicts when read:
what allocating, saving and the reports read must be exactly what a step on the dicts gives, and
a weight set by hand must win over the list, however the table was reached."""

from __future__ import annotations

import math
import random

from tui_trader.learning.weights import ALL_REGIMES, RegimeWeights, apply_floor

NAMES = ("trend", "momentum", "meanrev")


def stepped_by_dict(
    table: dict[str, dict[str, float]], regime: str, factors: list[float], floor: float
) -> None:
    """The step on dicts, as the weights were kept before: the reference."""
    for key in (regime, ALL_REGIMES):
        weights = table.get(key) or {n: 1.0 / len(NAMES) for n in NAMES}
        raw = {n: w * f for (n, w), f in zip(weights.items(), factors, strict=True)}
        table[key] = apply_floor(raw, floor)


def test_the_table_read_between_steps_is_the_dict_step_to_the_last_bit() -> None:
    """Hundreds of steps over three regimes, with the floor often binding, and the table read
    at random points: every read equals the reference (floats compared exactly)."""
    rng = random.Random(17)
    weights = RegimeWeights(NAMES, learning_rate=0.5, floor=0.1)
    reference: dict[str, dict[str, float]] = {}
    for step in range(600):
        regime = rng.choice(("bull/calm", "bear/volatile", "sideways/calm"))
        factors = [math.exp(0.5 * rng.uniform(-2.0, 2.0)) for _ in NAMES]
        weights.step_factors(regime, factors)
        stepped_by_dict(reference, regime, factors, 0.1)
        if step % 7 == 0:
            assert weights.table == reference
            assert weights.row(regime) == list(reference[regime].values())
    assert weights.table == reference
    assert weights.get("bull/calm") == reference["bull/calm"]


def test_a_weight_set_by_hand_wins_over_the_kept_list() -> None:
    """An entry written into the table (through a reference taken before the last step) is
    what the next step starts from, and what is read afterwards: the list does not overwrite
    it."""
    weights = RegimeWeights(NAMES, learning_rate=0.5, floor=0.05)
    up = [math.exp(0.5), 1.0, 1.0]
    weights.step_factors("bull/calm", up)
    table = weights.table  # held across the next step
    weights.step_factors("bull/calm", up)
    table["bull/calm"] = {"trend": 0.2, "momentum": 0.3, "meanrev": 0.5}
    assert weights.row("bull/calm") is None
    assert weights.table["bull/calm"] == {"trend": 0.2, "momentum": 0.3, "meanrev": 0.5}
    weights.step_factors("bull/calm", up)
    expected = apply_floor({"trend": 0.2 * math.exp(0.5), "momentum": 0.3, "meanrev": 0.5}, 0.05)
    assert weights.table["bull/calm"] == expected
    assert weights.row("bull/calm") == list(expected.values())
