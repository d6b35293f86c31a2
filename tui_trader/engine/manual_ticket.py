"""The order ticket a person fills in: what it asks for, and whether it is usable as typed.

Kept apart from ``engine.manual_orders`` (which acts on it in the session's thread) so that the
desk's ticket form checks a ticket with the same rule before it is queued.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tui_trader.core.orders import OrderType, Side, TimeInForce

SUPPORTED_TYPES = (OrderType.MARKET, OrderType.LIMIT, OrderType.STOP, OrderType.STOP_LIMIT)
"""Order types the ticket offers: what every broker of the desk supports."""


@dataclass(frozen=True, slots=True)
class ManualOrder:
    """A ticket: buy or sell ``qty`` shares, or ``notional`` dollars' worth at the last price."""

    symbol: str
    side: Side
    qty: float | None = None
    notional: float | None = None
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    stop_price: float | None = None

    def problem(self) -> str | None:
        """What makes the ticket unusable as typed, or ``None`` (checked before it is queued)."""
        if not self.symbol:
            return "a symbol is needed"
        if (self.qty is None) == (self.notional is None):
            return "give a quantity or a notional amount, not both"
        amount = self.qty if self.qty is not None else self.notional
        if amount is None or not amount > 0 or math.isinf(amount):
            return "the quantity or notional must be a positive number"
        kind = self.order_type
        if kind not in SUPPORTED_TYPES:
            return f"{kind} orders are not supported (market, limit, stop, stop-limit)"
        if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            if self.limit_price is None or not self.limit_price > 0:
                return f"a {kind} order needs a positive limit price"
        elif self.limit_price is not None:
            return f"a {kind} order takes no limit price"
        if kind.is_stop:
            if self.stop_price is None or not self.stop_price > 0:
                return f"a {kind} order needs a positive stop price"
            if self.notional is not None:
                return f"a {kind} order is sized in shares, not dollars"
        elif self.stop_price is not None:
            return f"a {kind} order takes no stop price"
        return None
