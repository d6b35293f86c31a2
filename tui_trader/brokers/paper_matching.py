"""The local paper broker's matching rules: where a working order fills on a bar, if it does.

Pure functions of an order and a bar, kept apart from the broker's accounting
(``brokers/paper.py``). A market order fills at the open moved against us by the slippage; a
limit order when the bar trades through its price (at the open if the bar opens better). A stop
triggers when the bar's range reaches its stop price and then fills like a market order at the
stop, or at the open when the bar gaps through it, moved by the slippage; a stop-limit becomes a
limit order once triggered; a trailing stop moves its stop with the best price since it was
placed (the bar's high for a sell, its low for a buy) and triggers like a stop. An OCO pair
(a take-profit limit and a stop leg) fills by whichever leg the bar reaches: at the open when it
gaps through one, else the stop when the bar's range reaches both (the bar does not say which
came first, so the worse one is assumed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from tui_trader.core.domain import Bar
from tui_trader.core.orders import Order, OrderClass, OrderRequest, OrderType, Side


@dataclass(slots=True)
class Working:
    """An open order with the session day it belongs to once it has seen a bar."""

    order: Order
    session: date | None = None
    best: float | None = None
    """A trailing stop's best price since it was placed (highest for a sell, lowest for a buy)."""
    triggered: bool = False
    """A stop-limit order whose stop was reached: it now works as a limit order."""


def match(order: Order, bar: Bar, slip: float) -> tuple[float, float | None]:
    """Reference and fill price of a market or limit order on this bar (price ``None``: no fill)."""
    if order.order_type is OrderType.MARKET:
        return bar.open, bar.open * (1 + slip * order.side.sign)
    limit = order.limit_price or 0.0
    if order.side is Side.BUY and bar.low <= limit:
        price = min(bar.open, limit)
        return price, price
    if order.side is Side.SELL and bar.high >= limit:
        price = max(bar.open, limit)
        return price, price
    return limit, None


def match_stop(working: Working, bar: Bar, slip: float) -> tuple[float, float | None]:
    """Reference and fill price of a stop, stop-limit or trailing stop on this bar.

    Price ``None``: no fill on this bar. A trailing stop that did not trigger moves its stop
    (``working.order`` is replaced); a stop-limit that triggered without reaching its limit stays
    working as a limit order (``working.triggered``).
    """
    order = working.order
    if working.triggered:
        return match(order, bar, slip)
    stop = order.stop_price or 0.0
    sell = order.side is Side.SELL
    if sell and bar.low <= stop:
        trigger = min(bar.open, stop)
    elif not sell and bar.high >= stop:
        trigger = max(bar.open, stop)
    else:
        if order.order_type is OrderType.TRAILING_STOP:
            best = working.best if working.best is not None else bar.close
            working.best = max(best, bar.high) if sell else min(best, bar.low)
            working.order = replace(order, stop_price=trail_stop(working))
        return stop, None
    if order.order_type is OrderType.STOP_LIMIT:
        working.triggered = True
        limit = order.limit_price or 0.0
        if (sell and trigger >= limit) or (not sell and trigger <= limit):
            return trigger, trigger
        return match(order, bar, slip)
    return trigger, trigger * (1 + slip * order.side.sign)


def match_oco(order: Order, bar: Bar, slip: float) -> tuple[float, float | None]:
    """Reference and fill price of an OCO pair on this bar (price ``None``: neither leg).

    The take-profit leg fills at its limit (or the open, gapped through it); the stop leg like
    a stop. A bar whose range reaches both fills the stop (the worse leg)."""
    limit, stop = order.limit_price or 0.0, order.stop_price or 0.0
    sell = order.side is Side.SELL
    stop_hit = bar.low <= stop if sell else bar.high >= stop
    profit_hit = bar.high >= limit if sell else bar.low <= limit
    gapped_profit = bar.open >= limit if sell else bar.open <= limit
    if profit_hit and (gapped_profit or not stop_hit):
        price = max(bar.open, limit) if sell else min(bar.open, limit)
        return price, price
    if not stop_hit:
        return stop, None
    trigger = min(bar.open, stop) if sell else max(bar.open, stop)
    return trigger, trigger * (1 + slip * order.side.sign)


def trail_stop(working: Working) -> float:
    """A trailing stop's stop price from its best price and trail percent."""
    pct = (working.order.trail_percent or 0.0) / 100.0
    best = working.best or 0.0
    # a sell trails below the best price, a buy above it
    return round(best * (1 - pct) if working.order.side is Side.SELL else best * (1 + pct), 4)


def reserve_price(order_type: OrderType, limit: float | None, stop: float | None) -> float | None:
    """The price an order may fill at, for buying power: its limit, else its stop (a triggered
    stop is a market order near it; an OCO pair, the higher of its limit and stop), else
    ``None`` (use the last price)."""
    if order_type is OrderType.LIMIT and limit is not None and stop is not None:
        return max(limit, stop)  # an OCO pair: either leg may fill
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        return limit
    if order_type is OrderType.STOP:
        return stop
    return None


def price_problem(req: OrderRequest) -> str | None:
    """What is missing from an order's prices for its type (Alpaca's rules), or ``None``."""
    kind = req.order_type
    if req.order_class is OrderClass.OCO:
        return _oco_problem(req)
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and not (
        req.limit_price and req.limit_price > 0
    ):
        return f"a {kind} order needs a positive limit price"
    if kind in (OrderType.STOP, OrderType.STOP_LIMIT) and not (
        req.stop_price and req.stop_price > 0
    ):
        return f"a {kind} order needs a positive stop price"
    if kind is OrderType.TRAILING_STOP and not (req.trail_percent and 0 < req.trail_percent < 100):
        return "a trailing stop needs a trail percent between 0 and 100"
    return None


def _oco_problem(req: OrderRequest) -> str | None:
    """What is wrong with an OCO pair's prices (Alpaca's rules), or ``None``."""
    if req.order_type is not OrderType.LIMIT:
        return "oco orders must be limit orders"
    limit, stop = req.limit_price, req.stop_price
    if not (limit and limit > 0 and stop and stop > 0):
        return "oco orders require take_profit.limit_price and stop_loss.stop_price"
    if (stop >= limit) if req.side is Side.SELL else (stop <= limit):
        where = "below" if req.side is Side.SELL else "above"
        return f"an oco's stop ({stop:g}) must be {where} its take profit ({limit:g})"
    return None
