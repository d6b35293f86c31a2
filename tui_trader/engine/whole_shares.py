"""What a session says when a target rounds to no share at all.

With whole shares (no ``--fractional``), a symbol whose one share costs more than a full
position in it (Bitcoin at 60,000 against a 10,000 full position, a 1,000-dollar stock in a book
of a hundred symbols) gets no order, cycle after cycle. Said nowhere, a session ran
to its end with no order and no reason: it looked like strategies that never wanted to trade.
It is said once per onset (``SaidOnce``), with the figures and the way out.
"""

from __future__ import annotations


def below_one_share(symbol: str, target: float, shares: float, price: float, full: float) -> str:
    """The note for a symbol whose one share (at ``price``) costs more than a ``full``
    position: the strategies' ``target`` is ``shares``, under one, and no order goes out. (A
    small target of a cheaper share is the strategies' own choice, not said.)"""
    return (
        f"{symbol}: one share at {price:,.2f} costs more than a full position ({full:,.2f}): "
        f"the strategies' target {target:+.2f} is {shares:+.2f} share, less than one whole "
        "share, so no order is sent (--fractional trades parts of a share; --allocation or "
        "--max-position a larger position)"
    )
