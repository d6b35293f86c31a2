"""Where the sandbox's orders fill: quotes, bars, stop triggers and the auction price.

Pure functions of the market feed and one order (the engine publishes what they decide).
Market orders fill at the quote plus slippage; limit orders when marketable, or on a later bar
whose low (buys) or high (sells) crosses the limit, at the limit or the bar's open if better;
stops trigger as ``order_types`` describes.
"""

from __future__ import annotations

from tui_trader.sandbox.feed import MarketFeed
from tui_trader.sandbox.order_rules import OrderTicket
from tui_trader.sandbox.order_types import new_hwm, reached, stop_fill_price, trail_stop
from tui_trader.sandbox.sim_order import SimOrder


def fill_price(
    feed: MarketFeed, ticket: OrderTicket, on_bar: bool, slippage: float
) -> float | None:
    """Where a market or limit order (or a triggered stop) would fill now, or None."""
    quote = feed.quote(ticket.symbol)
    buy = ticket.side == "buy"
    touch = quote.ask * (1 + slippage) if buy else quote.bid * (1 - slippage)
    limit = ticket.limit_price
    if limit is None:
        return round(touch, 4)
    if (buy and touch <= limit) or (not buy and touch >= limit):
        return round(min(touch, limit) if buy else max(touch, limit), 4)
    if not on_bar:
        return None
    bar = feed.latest_bar(ticket.symbol)
    if buy and bar.low <= limit:
        return round(min(limit, bar.open), 4)
    if not buy and bar.high >= limit:
        return round(max(limit, bar.open), 4)
    return None


def trigger(feed: MarketFeed, order: SimOrder, on_bar: bool, slippage: float) -> float | None:
    """Check a stop's trigger on the latest bar (or the quote); the fill price if triggered.

    Marks the order ``triggered``. A trailing stop that does not trigger moves its high-water
    mark and its stop with the bar.
    """
    ticket = order.ticket
    if on_bar:
        bar = feed.latest_bar(ticket.symbol)
        low, high, open_ = bar.low, bar.high, bar.open
    else:
        quote = feed.quote(ticket.symbol)
        low = high = open_ = quote.bid if ticket.side == "sell" else quote.ask
    stop = order.stop_price or 0.0
    if not reached(ticket.side, stop, low, high):
        if ticket.type == "trailing_stop" and order.hwm is not None:
            order.hwm = new_hwm(ticket.side, order.hwm, low, high)
            order.stop_price = trail_stop(
                ticket.side, order.hwm, ticket.trail_price, ticket.trail_percent
            )
        return None
    order.triggered = True
    return stop_fill_price(ticket.side, stop, open_, slippage)


def auction_fill(feed: MarketFeed, ticket: OrderTicket) -> float | None:
    """The auction price (the last price) if the order takes it, else None."""
    price = round(feed.last_price(ticket.symbol), 4)
    limit = ticket.limit_price
    if limit is None or (ticket.side == "buy" and price <= limit):
        return price
    if ticket.side == "sell" and price >= limit:
        return price
    return None


def first_part(qty: float) -> float:
    """The first fill of a split order: half, in whole shares when the order is whole."""
    if qty >= 2 and float(qty).is_integer():
        return float(qty // 2)
    if qty >= 2:
        return round(qty / 2, 9)
    return qty
