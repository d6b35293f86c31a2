"""The protective exit a position gets at the broker: which order, at what prices, and why.

``--stop-loss`` alone: a GTC stop. ``--take-profit`` alone: a GTC limit at the take-profit
level. Both: one OCO pair (the take-profit limit and the stop, the fill of one cancelling the
other), so the shares are promised once and the broker, not the desk, takes either exit. A
price already through the stop or the take-profit level would make the order fill at once or be
refused (Alpaca checks an OCO's prices against the market), so the exit is then a market order.
Pure values and arithmetic: ``engine/protective_stops.py`` sends what this plans.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_trader.core.domain import Position
from tui_trader.core.orders import Order, OrderClass, OrderRequest, OrderType, Side, TimeInForce
from tui_trader.risk.stops import StopRule, stop_price, take_profit_price


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """The order to send, and whether it closes at market (a level already passed)."""

    request: OrderRequest
    at_market: bool = False
    profit: bool = False
    """The take-profit level was passed: a take profit at market."""


def plan_exit(
    rule: StopRule | None,
    take_profit_pct: float | None,
    position: Position,
    qty: float,
    atr: float | None,
    last: float,
    client_order_id: str,
) -> ExitPlan | str:
    """The exit for ``qty`` shares of ``position``, or why there is none yet (no ATR)."""
    symbol, long = position.symbol, position.qty > 0
    entry = position.avg_entry_price
    side = Side.SELL if long else Side.BUY
    stop = limit = None
    whys = []
    if rule is not None:
        distance = rule.distance(entry, atr)
        if distance is None or distance <= 0:
            return "no average true range measured yet"
        stop = stop_price(entry, distance, long)
        whys.append(f"protective stop {rule.why(entry, atr, long)} at {stop:g}")
    if take_profit_pct is not None:
        limit = take_profit_price(entry, take_profit_pct, long)
        where = "above" if long else "below"
        whys.append(f"take profit {take_profit_pct:g}% {where} entry {entry:,.2f} at {limit:g}")
    why = "; ".join(whys)
    if stop is not None and limit is not None:
        why = f"OCO exit: {why}"
    request = OrderRequest(
        symbol=symbol,
        side=side,
        qty=qty,
        client_order_id=client_order_id,
        order_type=OrderType.STOP if limit is None else OrderType.LIMIT,
        limit_price=limit,
        stop_price=stop,
        time_in_force=TimeInForce.GTC,
        rationale=why,
        order_class=OrderClass.OCO if stop is not None and limit is not None else OrderClass.SIMPLE,
    )
    passed = passed_level(side, stop, limit, last)
    if passed is None:
        return ExitPlan(request)
    return ExitPlan(at_market(request, last, passed), at_market=True, profit=passed != STOP)


STOP = "stop"
"""``passed_level``: the price is already through the stop."""
TAKE_PROFIT_LEVEL = "take-profit level"
"""``passed_level``: the price is already through the take-profit level (not the stop)."""


def passed_level(side: Side, stop: float | None, limit: float | None, last: float) -> str | None:
    """Which level of an exit that closes with ``side`` (a sell closes a long) the price
    ``last`` is already through: ``STOP`` (judged first, the worse), ``TAKE_PROFIT_LEVEL``, or
    ``None`` (the exit can wait at the broker). Such an exit would fill at once, or be refused
    (Alpaca refuses a sell stop at or above the market), so it is closed at market instead.
    The one rule for an exit placed (``plan_exit``) and one put back (``engine.stop_release``)."""
    long = side is Side.SELL
    if stop is not None and (last <= stop if long else last >= stop):
        return STOP
    if limit is not None and (last >= limit if long else last <= limit):
        return TAKE_PROFIT_LEVEL
    return None


def take_profit_of(order: Order) -> float | None:
    """The take-profit level of a protective exit: a limit's (alone or in an OCO pair); none
    for a stop (a stop-limit's limit is no take profit)."""
    return order.limit_price if order.order_type is OrderType.LIMIT else None


def at_market(request: OrderRequest, last: float, passed: str) -> OrderRequest:
    """``request``'s exit as a market order for the same shares and client id, as the exit
    would have filled; its rationale says the price ``last`` is through the level ``passed``."""
    return OrderRequest(
        symbol=request.symbol,
        side=request.side,
        qty=request.qty,
        client_order_id=request.client_order_id,
        rationale=f"{request.rationale}; last price {last:g} is already through the {passed}: "
        "closing at market",
    )


def fits(order: Order, rule: StopRule | None, take_profit_pct: float | None) -> bool:
    """Whether a working protective order is the kind this session's exits are (a stop, a
    take-profit limit, or their OCO pair)."""
    if rule is not None and take_profit_pct is not None:
        return order.order_class is OrderClass.OCO
    if order.order_class is OrderClass.OCO:
        return False
    if take_profit_pct is not None:
        return order.order_type is OrderType.LIMIT
    return order.order_type.is_stop


def describe(order: Order) -> str:
    """A working exit in a few words: ``sell 10 SPY stop 95`` / ``... take profit 105, stop
    95``."""
    head = f"{order.side} {order.remaining_qty:g} {order.symbol}"
    if order.order_class is OrderClass.OCO:
        return f"{head} take profit {order.limit_price:g}, stop {order.stop_price:g} (OCO)"
    if order.order_type is OrderType.LIMIT:
        return f"{head} take profit {order.limit_price:g}"
    return f"{head} stop {order.stop_price:g}"
