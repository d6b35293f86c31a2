"""Complex orders: ``bracket`` (entry, take profit, stop loss), ``oco`` (exit pair), ``oto``.

A bracket's or an OTO's legs are orders on the other side, ``held`` until the entry fills, then
worked; a bracket's two legs are one-cancels-other. An OCO order is a limit order (the take
profit) whose single leg is the stop loss, both worked at once, one canceling the other. Legs
take the entry's quantity and time in force. Prices are checked against a base price, as Alpaca
does: the entry's limit price, or the market price for a market entry and for an OCO.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui_trader.sandbox.order_rules import OrderTicket
from tui_trader.sandbox.order_types import check_increment, positive, unprocessable

CLASSES = ("", "simple", "bracket", "oco", "oto")


def _object(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    """A nested object field (``take_profit``, ``stop_loss``), None when absent."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise unprocessable(f"invalid {name}")
    return value


def parse_class(body: dict[str, Any], ticket: OrderTicket) -> None:
    """Check ``order_class`` and its legs' fields; record them on ``ticket``."""
    kind = body.get("order_class") or ""
    if kind not in CLASSES:
        raise unprocessable("invalid order_class")
    kind = "" if kind == "simple" else kind
    tp_body, sl_body = _object(body, "take_profit"), _object(body, "stop_loss")
    if not kind:
        if tp_body is not None or sl_body is not None:
            raise unprocessable(
                "take_profit and stop_loss are only for bracket, oco and oto orders"
            )
        return
    take_profit = positive(tp_body or {}, "limit_price")
    stop = positive(sl_body or {}, "stop_price")
    stop_limit = positive(sl_body or {}, "limit_price")
    if sl_body is not None and stop is None:
        raise unprocessable("stop_loss.stop_price is required")
    if tp_body is not None and take_profit is None:
        raise unprocessable("take_profit.limit_price is required")
    for name, price in (
        ("take_profit", take_profit),
        ("stop_loss", stop),
        ("stop_loss", stop_limit),
    ):
        check_increment(name, price)
    if ticket.qty is None or not float(ticket.qty).is_integer():
        raise unprocessable(f"{kind} orders must be for a whole number of shares")
    if ticket.time_in_force not in ("day", "gtc"):
        raise unprocessable(f"{kind} orders must be DAY or GTC orders")
    if ticket.extended_hours:
        raise unprocessable(f"{kind} orders cannot be extended hours orders")
    if kind == "oco":
        if ticket.type != "limit":
            raise unprocessable("oco orders must be limit orders")
        take_profit = take_profit or ticket.limit_price
        ticket.limit_price = take_profit
    elif ticket.type not in ("market", "limit"):
        raise unprocessable(f"{kind} orders must be market or limit orders")
    if kind in ("bracket", "oco") and (take_profit is None or stop is None):
        raise unprocessable(
            f"{kind} orders require take_profit.limit_price and stop_loss.stop_price"
        )
    if kind == "oto" and (take_profit is None) == (stop is None):
        raise unprocessable("oto orders require exactly one of take_profit or stop_loss")
    ticket.order_class = kind
    ticket.take_profit = take_profit
    ticket.stop_loss = None if stop is None else (stop, stop_limit)


def exit_side(ticket: OrderTicket) -> str:
    """The side of the exit legs: the entry's opposite (the OCO's own side for an OCO)."""
    if ticket.order_class == "oco":
        return ticket.side
    return "sell" if ticket.side == "buy" else "buy"


def check_class_prices(ticket: OrderTicket, market: float) -> None:
    """The legs' prices against the base price (422 as Alpaca when on the wrong side of it)."""
    if not ticket.order_class:
        return
    base = market
    if ticket.order_class != "oco" and ticket.limit_price is not None:
        base = ticket.limit_price
    base = round(base, 2)
    selling = exit_side(ticket) == "sell"
    tp = ticket.take_profit
    if tp is not None and (tp < base + 0.01 - 1e-9 if selling else tp > base - 0.01 + 1e-9):
        sign = ">= base_price + 0.01" if selling else "<= base_price - 0.01"
        raise unprocessable(f"take_profit.limit_price must be {sign} (base_price: {base:g})")
    if ticket.stop_loss is not None:
        stop = ticket.stop_loss[0]
        if stop > base - 0.01 + 1e-9 if selling else stop < base + 0.01 - 1e-9:
            sign = "<= base_price - 0.01" if selling else ">= base_price + 0.01"
            raise unprocessable(f"stop_loss.stop_price must be {sign} (base_price: {base:g})")


def leg_tickets(ticket: OrderTicket, new_id: Any) -> list[OrderTicket]:
    """The legs of a complex order, as tickets (take profit first, then stop loss)."""
    side = exit_side(ticket)
    base = replace(
        ticket,
        side=side,
        notional=None,
        extended_hours=False,
        trail_price=None,
        trail_percent=None,
        take_profit=None,
        stop_loss=None,
    )
    legs = []
    if ticket.take_profit is not None and ticket.order_class != "oco":
        legs.append(
            replace(
                base,
                type="limit",
                limit_price=ticket.take_profit,
                stop_price=None,
                client_order_id=new_id(),
            )
        )
    if ticket.stop_loss is not None:
        stop, limit = ticket.stop_loss
        legs.append(
            replace(
                base,
                type="stop" if limit is None else "stop_limit",
                limit_price=limit,
                stop_price=stop,
                client_order_id=new_id(),
            )
        )
    return legs
