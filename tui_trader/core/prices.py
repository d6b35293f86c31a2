"""How a price is written for a trader: in cents, or to four decimals under 10.

One rule for every front end (``history`` and ``status``, the desk's tables and logs): a
currency pair at 1.1926 written in cents is 1.19 on both sides of a trade that lost money.
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
