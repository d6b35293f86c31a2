"""Symbols where an order placed by hand works: the strategies wait there, said once per onset.

The strategies size their orders from what a symbol will hold once the working orders fill
(``risk.holdings``: held plus working). An order a person placed (the desk's ticket, a close,
or an order placed at the broker outside the desk) is not the strategies' to net: a limit buy
resting below the market counted as held made them sell it back each bar (refused as a short
sale, one risk event a bar), and with shares held they sold real shares against an order that
might never fill, then bought them back when it was cancelled. So while such an order works in a
symbol, the strategies send no order there; the first cycle that holds them back says so in its
notes (once per onset, like an outside change or an exit not kept), and once the order ends
(filled, cancelled, expired) the strategies trade the symbol again from the cycle that sees it
end: a position changed by hand is rebalanced to their target. The risk gate still counts the
working order (the position limit sees it plus any other buy).

Which orders are the strategies' is read from the desk's client order ids
(``core.order_ids``): a rebalance leg, a flattening and a protective exit are the desk's own
automatic orders; a manual order (``mN``, from any session) or an id not of the desk's form is
placed by hand. Pure values; the session calls ``holds`` only once a hand order may exist (a
manual order sent, or a broker others can reach), so a replay pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from tui_trader.core.order_ids import read_order_id
from tui_trader.core.orders import Order, OrderType
from tui_trader.engine.said_once import SaidOnce

_MANUAL_LEG = re.compile(r"m\d+")
"""The last part of a manual order's client order id (``ManualOrders._manual_id``)."""


def placed_by_hand(order: Order) -> bool:
    """Whether a working order was placed by a person (the desk's ticket, close or flatten, or
    anything at the broker not sent by a desk), not by the strategies or a protective exit."""
    own = read_order_id(order.client_order_id)
    return own is None or _MANUAL_LEG.fullmatch(own.leg) is not None


def _describe(order: Order) -> str:
    """A hand order in a few words: ``buy 5 limit @ 300 GTC``, ``sell 5 stop 90 DAY``,
    ``sell 5 stop_limit 90 @ 89 GTC``."""
    what = f"{order.side} {order.qty:g} {order.order_type}"
    if order.stop_price is not None and order.order_type is not OrderType.MARKET:
        what = f"{what} {order.stop_price:g}"
    if order.limit_price is not None:
        what += f" @ {order.limit_price:g}"
    return f"{what} {str(order.time_in_force).upper()}"


class HandHolds(SaidOnce):
    """One session's memory of the hand-order holds it has said: by symbol, the reason said
    (it names the order), while that order works (``still`` forgets the others)."""

    __slots__ = ()

    @staticmethod
    def holds(working: Iterable[Order]) -> dict[str, str]:
        """Each symbol with a working order placed by hand, and why its strategies wait (the
        first such order by client id, so the reason stays the same while it works)."""
        found: dict[str, Order] = {}
        for order in working:
            if not placed_by_hand(order):
                continue
            seen = found.get(order.symbol)
            if seen is None or order.client_order_id < seen.client_order_id:
                found[order.symbol] = order
        return {
            symbol: f"a hand order works ({_describe(order)})" for symbol, order in found.items()
        }

    def onsets(self, holds: Mapping[str, str], traded: Iterable[str]) -> list[str]:
        """The cycle's notes for the holds in ``traded`` symbols not said yet (said once per
        onset; a hold that ended is forgotten, so its next onset is said again)."""
        self.still(holds)
        return [
            f"{symbol}: the strategies wait while {holds[symbol]}; they trade {symbol} again "
            "once it is filled, cancelled or expired"
            for symbol in sorted(traded)
            if symbol in holds and self.first(symbol, holds[symbol])
        ]
