"""The adaptive allocator's streak cap: during a losing streak the most aggressive strategies
get no more than an equal share.

"Aggressive" is measured, not declared: the strategies whose average gross target (kept by the
allocator, bar by bar) is above the median. Their weight above an equal share goes to the
calmer half, in proportion to what each already holds, so the weights still sum as before.
"""

from __future__ import annotations


def cap_aggressive(
    names: tuple[str, ...], exposures: list[float], weights: dict[str, float]
) -> dict[str, float]:
    """Cap the strategies with above-median gross exposure (``exposures`` in ``names`` order)
    at an equal share; ``weights`` itself when none of them is above it."""
    exposure = dict(zip(names, exposures, strict=True))
    ranked = sorted(names, key=lambda n: exposure[n], reverse=True)
    aggressive = ranked[: len(ranked) // 2]
    cap = 1.0 / len(names)
    excess = sum(max(weights[n] - cap, 0.0) for n in aggressive)
    if excess <= 0:
        return weights
    out = {n: (min(w, cap) if n in aggressive else w) for n, w in weights.items()}
    calm = [n for n in names if n not in aggressive]
    calm_total = sum(out[n] for n in calm) or 1.0
    for n in calm:
        out[n] += excess * out[n] / calm_total
    return out
