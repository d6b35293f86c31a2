"""How a price is written for a trader: in cents, or to four decimals under 10; and a number a
trader typed, exactly.

One rule for every front end (``history`` and ``status``, the desk's tables and logs): a
currency pair at 1.1926 written in cents is 1.19 on both sides of a trade that lost money.
``exact_text`` writes a ticket's size or price as the order sends it, for the words a trader
confirms and the audit trail keeps of it.
"""

from __future__ import annotations

PRICE = "{:,.2f}"
"""How a price of 10 or more is written."""


def price_text(value: float) -> str:
    """A price in cents, or to four decimals under 10 (and four figures under a cent): a
    currency pair at 1.1926 showed as 1.19 on both sides of a trade that lost 20.94."""
    if abs(value) >= 10 or value == 0:
        return PRICE.format(value)
    return f"{value:.4f}" if abs(value) >= 0.01 else f"{value:.4g}"


def exact_text(number: float) -> str:
    """``number`` to 15 significant digits (every digit a ticket field can carry into a float),
    thousands grouped as the ticket takes them: ``1,234,567``, ``150.1249``. ``:g`` kept six:
    1,234,567 shares read "1.23457e+06" and a mistyped 1,000,001 "1e+06" in the ticket's
    confirmation (``review28e``) and in the hand order's audit words (``leftovers29``)."""
    return f"{number:,.15g}"
