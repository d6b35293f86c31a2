"""Which regime tables a symbol's weights come from, and in what shares.

The detector's call is the most probable direction, but it carries the probabilities behind it:
``p_bad`` that the market is falling and volatile, and ``p_bull`` that a market which is not is
rising rather than flat. Allocating with the called regime's table alone switches the whole
blend to another table whenever the call flickers across 0.5, and every switch is traded (the
seventh pass found that flicker is what a wider no-trade band was really holding back). Mixing
the tables in proportion to the probabilities (bear ``p_bad``, bull ``(1 - p_bad) p_bull``,
sideways ``(1 - p_bad)(1 - p_bull)``) moves the weights as smoothly as the probabilities move.
It changes nothing while learning is frozen (every table is then equal), so it is part of what
learning does, not a rule the frozen ablation shares.

Each direction's table is the one the detector would name if it called that direction: its
level by the detector's own rule (a bear market is volatile above ``BEAR_VOLATILE_RATIO``, any
market above the detector's volatile ratio). A steady decline called bear by the trend rule
alone (``p_bad`` at most 0.5, trend t below ``-bear_t``) is a hard call with no probability
behind it: its own table is used whole.
"""

from __future__ import annotations

from math import exp, log

from tui_trader.learning.regime import BEAR_VOLATILE_RATIO, Found, RegimeDetector

_BEAR_VOLATILE_LOG = log(BEAR_VOLATILE_RATIO)


def regime_mix(found: Found, detector: RegimeDetector) -> list[tuple[str, float]]:
    """The regime labels to mix and their shares (summing to 1), for one classification."""
    direction, level, _confidence, t, log_ratio, p_bad = found
    if direction == "bear" and p_bad <= 0.5:  # the steady-decline rule: a hard call
        return [(f"{direction}/{level}", 1.0)]
    b0, b1, b2 = detector.bull_model
    z = b0 + b1 * t + b2 * log_ratio
    z = z if z < 50.0 else 50.0
    p_bull = 1.0 / (1.0 + exp(-(z if z > -50.0 else -50.0)))
    volatile = log_ratio > detector.volatile_log_ratio
    other = "volatile" if volatile else "calm"
    bear = "volatile" if volatile or log_ratio > _BEAR_VOLATILE_LOG else "calm"
    rest = 1.0 - p_bad
    return [
        (f"bear/{bear}", p_bad),
        (f"bull/{other}", rest * p_bull),
        (f"sideways/{other}", rest * (1.0 - p_bull)),
    ]


def mix_weights(
    names: tuple[str, ...], parts: list[tuple[dict[str, float], float]]
) -> dict[str, float]:
    """The weighted average of weight tables (each by name, shares summing to 1)."""
    return {n: sum([w[n] * share for w, share in parts]) for n in names}
