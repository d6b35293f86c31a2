"""The words for protective exits cancelled before an order and put back: which exits, and how
the order they were cancelled for ended.

Shared by ``engine.stop_release`` (a put-back in a cycle) and ``engine.stops_at_finish`` (at a
desk's finish), so both say it the same way. And what an order closing a position may still do
(``may_still``): a long's sell sells its shares, a short's buy buys them back (the words said
"may still sell" for a short's buy too).
"""

from __future__ import annotations

from tui_trader.core.orders import Order, OrderClass, OrderRequest, OrderStatus, OrderType, Side

Released = list[tuple[Order, str | None]]
"""Exits cancelled before an order, each with the session it was taken over from (if any)."""


def named_exits(released: Released) -> str:
    """The exits in a few words: ``its stop at 95.00``, ``its take profit at 105.00``, ``its
    exit (take profit 105.00, stop 95.00)``."""
    words = []
    for order, _came in released:
        if order.order_class is OrderClass.OCO:
            words.append(f"exit (take profit {order.limit_price:.2f}, stop {order.stop_price:.2f})")
        elif order.order_type is OrderType.LIMIT:
            words.append(f"take profit at {order.limit_price:.2f}")
        else:
            words.append(f"stop at {order.stop_price:.2f}")
    return "its " + " and ".join(words)


def unfilled_end(order: OrderRequest, found: Order | None) -> str:
    """How ``order``, found ended with nothing filled (``found``: the broker's record of it,
    ``None`` if it has none), ended, in the words a put-back of its exits gives as its why."""
    what = f"{order.side} {order.qty:g} {order.symbol}"
    if found is None or found.status is OrderStatus.NOT_RECEIVED:
        return f"{what} never went out"
    reason = f" ({found.reject_reason})" if found.reject_reason else ""
    return f"{what} ended {found.status}, nothing filled{reason}"


def may_still(side: Side | str) -> str:
    """What an order on ``side`` that closes a position may still do to its shares, in words:
    ``may still sell`` (a long's sell), ``may still buy back`` (a short's buy)."""
    return "may still buy back" if str(side) == "buy" else "may still sell"
