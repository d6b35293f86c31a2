"""What a session says when a target rounds to no share at all.

With whole shares (no ``--fractional``), a symbol whose one share costs more than the position
the strategies want in it (Bitcoin at 60,000 against a 10,000 full position, a 1,000-dollar stock
in a book of a hundred symbols) gets no order, cycle after cycle. Said nowhere, a session ran
to its end with no order and no reason: it looked like strategies that never wanted to trade.
It is said once per onset (``SaidOnce``), with the figures and the way out.
"""

from __future__ import annotations


def below_one_share(symbol: str, target: float, shares: float, price: float, full: float) -> str:
    """The note for a ``target`` (of a ``full`` position's value) that is ``shares`` (under one)
    at ``price``: no order goes out."""
    return (
        f"{symbol}: the strategies' target {target:+.2f} of a {full:,.2f} position is "
        f"{shares:+.2f} share at {price:,.2f}, less than one whole share: no order is sent "
        "(--fractional trades parts of a share; --allocation or --max-position a larger position)"
    )
