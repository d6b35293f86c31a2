"""The adaptive allocator's reason for a target, in words: the regime call, the weights, and
each rule that acted (the long-trend floor, the learned exposure, the bear-market scaling, the
losing-streak cap, the drawdown scaling), then the reasons of the strategies that want a
position. ``AdaptiveAllocator.allocate`` hands this function and its values to the signal, which
builds the text only when someone reads it (an order's row, the desk).
"""

from __future__ import annotations

from tui_trader.core.domain import Signal
from tui_trader.learning.regime import Found, call_of


def adaptive_reason(
    found: Found,
    weights: dict[str, float],
    names: tuple[str, ...],
    defensive: float | None,
    floored: bool,
    exposure: float,
    streak: int,
    risk_note: str,
    signals: dict[str, Signal],
) -> str:
    """Why the adaptive allocator chose a target (built only when someone reads it)."""
    call = call_of(found)
    regime = call.label if call.label == "warming" else f"{call.label} ({call.confidence:.2f})"
    parts = [f"adaptive, regime {regime}"]
    parts.append("weights " + " ".join(f"{n}={weights[n]:.2f}" for n in names))
    if floored:
        parts.append("long trend up: blend raised to its target")
    if exposure != 1.0:
        parts.append(f"learned exposure x{exposure:.2f}")
    if defensive is not None:
        parts.append(f"bear probability {call.p_bad:.2f}: exposure x{defensive:.2f}")
    if streak:
        parts.append(f"losing streak {streak}: aggressive strategies capped")
    if risk_note:
        parts.append(risk_note)
    parts += [f"{n}: {s.reason}" for n, s in signals.items() if s.target != 0.0]
    return "; ".join(parts)
