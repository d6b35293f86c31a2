"""The adaptive allocator's defensive rule: how much of the blend it keeps as a falling,
volatile market becomes probable.

A long-only family cannot step aside by reweighting itself (the shadow records show every
strategy losing in a bear market, but too slowly to learn within a session), so this is a rule:
the blend is kept whole up to a bear probability of ``DEFENSIVE_RAMP[0]`` and scaled down
linearly to ``defensive`` at ``DEFENSIVE_RAMP[1]``.
"""

from __future__ import annotations

DEFAULT_DEFENSIVE = 0.0
"""Share of the blended target kept once a bear market is probable (tuned on seeds 101-120)."""
DEFENSIVE_RAMP = (0.3, 0.6)
"""Bear probabilities where the defensive scaling starts and where it reaches ``defensive``."""


def defensive_scale(p_bad: float, defensive: float = DEFAULT_DEFENSIVE) -> float:
    """Share of the blend kept at a bear-market probability: 1, then falling to ``defensive``."""
    low, high = DEFENSIVE_RAMP
    room = (high - p_bad) / (high - low)
    room = room if room > 0.0 else 0.0  # min(1.0, max(0.0, room)) as it compares, without
    room = room if room < 1.0 else 1.0  # the calls (a third of the symbol-bars come here)
    return defensive + (1.0 - defensive) * room
