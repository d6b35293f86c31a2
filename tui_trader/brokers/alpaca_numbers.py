"""Numbers read from Alpaca's answers, checked before the desk acts on them.

alpaca-py keeps an account's money and an order's or position's quantities and prices as the
strings Alpaca sent, and ``float`` turns ``"NaN"``, ``"inf"`` or ``"1e400"`` into numbers no
account holds. Taken as they came, an equity of ``NaN`` or ``inf`` crashed the cycle mid-way
(``cannot convert float NaN to integer``); one of ``1e300`` was kept as the account's peak, and
the next start refused the risk state as "edited by hand"; a missing equity read as 0 halted the
account for the day on a loss that never happened; a position's quantity of ``NaN`` crashed the
audit trail's write (``NOT NULL constraint failed``).

Such an answer is unreadable, as one alpaca-py's model refuses is (``alpaca_calls.classify``):
the read is tried again, then fails as the broker's silence does (the cycle is skipped and said,
no order goes out on it) until the broker answers something a desk can trade on. An order's
numbers too (``alpaca_orders``): a fill at a price of ``NaN`` crashed the audit trail's write,
one at 0, -5 or 1e300 was recorded as the price paid.
"""

from __future__ import annotations

import math
from typing import Any

from tui_trader.brokers import BrokerError

BROKER_LIMIT = 1e12
"""The largest size an amount, quantity or price from the broker may have: a trillion, beyond
any account (``cli.numbers.MAX_NUMBER`` bounds cash, ``market.validate.MAX_PRICE`` a price)."""


class UnreadableAnswer(BrokerError, ValueError):
    """An answer from Alpaca holding a number no account, order or position can have. Inside
    a read's retries it is retried (``alpaca_calls.classify``); met outside them (an order of a
    listing or a trade update, turned into ours after the read) it is the broker's doubt, as
    any ``BrokerError``: the cycle is skipped and says why."""


def number(value: Any, what: str, *, negative: bool = True) -> float:
    """``value`` (Alpaca's text, or a number) as a finite float no larger than
    ``BROKER_LIMIT``; ``UnreadableAnswer`` naming ``what`` otherwise (missing, empty, text,
    NaN, infinite, too large, or negative where ``negative`` is False)."""
    if value is None or isinstance(value, bool):
        raise UnreadableAnswer(f"{what} is missing")
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise UnreadableAnswer(f"{what} is {_shown(value)}, not a number") from None
    if not math.isfinite(parsed) or abs(parsed) > BROKER_LIMIT:
        raise UnreadableAnswer(f"{what} is {_shown(value)}, not a number an account can hold")
    if parsed < 0 and not negative:
        raise UnreadableAnswer(f"{what} is {_shown(value)}, below zero")
    return parsed + 0.0  # (-0.0 as 0.0)


def optional(value: Any, what: str, *, negative: bool = True) -> float | None:
    """``number`` for a field Alpaca may leave out: ``None`` when absent (null)."""
    return None if value is None else number(value, what, negative=negative)


def _shown(value: Any) -> str:
    """The value as quoted in a line: short, and never a wall of text."""
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "...'"
