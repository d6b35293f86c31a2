"""What makes an order acceptable: its fields, the asset, buying power, shares, wash trades.

Messages and codes follow Alpaca: 422 with code 40010001 for an order it cannot process, 403
with code 40310000 for insufficient buying power or shares and for a potential wash trade (an
order that could execute against one of the account's own open orders on the other side).
Stop-type fields live in ``order_types``, order classes (bracket, OCO, OTO) in ``order_classes``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.order_types import (
    MARKET_ONCE_TRIGGERED,
    ORDER_TYPES,
    check_increment,
    positive,
    stop_fields,
    unprocessable,
)

if TYPE_CHECKING:
    from tui_trader.sandbox.matching import MatchingEngine
    from tui_trader.sandbox.sim_order import SimOrder

TIME_IN_FORCE = ("day", "gtc", "ioc", "fok", "opg", "cls")
MAX_CLIENT_ORDER_ID = 128


@dataclass(slots=True)
class OrderTicket:
    """An order's request fields, checked and typed."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: float | None
    notional: float | None
    limit_price: float | None
    client_order_id: str
    extended_hours: bool = False
    stop_price: float | None = None
    trail_price: float | None = None
    trail_percent: float | None = None
    order_class: str = ""
    """``""`` (simple), ``bracket``, ``oco`` or ``oto``."""
    take_profit: float | None = None
    """The take-profit leg's limit price of a bracket, OCO or OTO."""
    stop_loss: tuple[float, float | None] | None = None
    """The stop-loss leg's stop price and optional limit price."""


def parse_ticket(
    body: Any,
    new_id: Callable[[], str],
    symbols: tuple[str, ...],
    untradable: tuple[str, ...],
) -> OrderTicket:
    """Check a POST /v2/orders body and return its ticket, or raise the error Alpaca would."""
    if not isinstance(body, dict):
        raise ApiError(400, 40010000, "request body format is invalid")
    symbol = str(body.get("symbol") or "").upper()
    if not symbol:
        raise unprocessable("symbol is required")
    if symbol in untradable:
        raise unprocessable(f"asset {symbol} is not tradable")
    if symbol not in symbols:
        raise unprocessable(f'asset "{symbol}" not found')
    side = body.get("side")
    if side not in ("buy", "sell"):
        raise unprocessable("invalid side")
    kind = body.get("type") or body.get("order_type")
    if kind not in ORDER_TYPES:
        raise unprocessable("invalid order type")
    tif = body.get("time_in_force")
    if tif not in TIME_IN_FORCE:
        raise unprocessable("invalid time_in_force")
    if tif in ("opg", "cls") and kind not in ("market", "limit"):
        raise unprocessable("opg and cls orders must be market or limit orders")
    stop_price, trail_price, trail_percent = stop_fields(body, kind, tif)
    qty, notional = positive(body, "qty"), positive(body, "notional")
    if qty is None and notional is None:
        raise unprocessable("qty or notional is required")
    if qty is not None and notional is not None:
        raise unprocessable("only one of qty or notional may be specified")
    fractional = notional is not None or (qty is not None and not float(qty).is_integer())
    if fractional and (kind != "market" or tif != "day"):
        raise unprocessable("fractional orders must be DAY market orders")
    if notional is not None and notional < 1:
        raise unprocessable("notional must be at least 1")
    if notional is not None and kind != "market":
        raise unprocessable("notional orders must be market orders")
    takes_limit = kind in ("limit", "stop_limit")
    limit_price = positive(body, "limit_price") if takes_limit else None
    if body.get("order_class") == "oco" and limit_price is None:
        limit_price = positive(body.get("take_profit") or {}, "limit_price")
    if takes_limit and limit_price is None:
        raise unprocessable(f"{kind} orders require limit_price")
    check_increment("limit_price", limit_price)
    extended = bool(body.get("extended_hours") or False)
    if extended and (kind != "limit" or tif != "day"):
        raise unprocessable("extended hours order must be DAY limit orders")
    client_order_id = str(body.get("client_order_id") or new_id())
    if len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise unprocessable("client_order_id must be no more than 128 characters")
    return OrderTicket(
        symbol,
        side,
        kind,
        tif,
        qty,
        notional,
        limit_price,
        client_order_id,
        extended,
        stop_price,
        trail_price,
        trail_percent,
    )


def price_bound(ticket: OrderTicket) -> float | None:
    """The worst price an order may execute at: its limit, or None for market-like orders."""
    if ticket.type in MARKET_ONCE_TRIGGERED or ticket.type == "market":
        return None
    return ticket.limit_price


def could_cross(new: OrderTicket, resting: OrderTicket) -> bool:
    """True if ``new`` could execute against ``resting`` (opposite sides, same symbol)."""
    if new.symbol != resting.symbol or new.side == resting.side:
        return False
    buy, sell = (new, resting) if new.side == "buy" else (resting, new)
    buy_bound, sell_bound = price_bound(buy), price_bound(sell)
    if buy_bound is None or sell_bound is None:
        return True
    return buy_bound >= sell_bound


def check_wash(ticket: OrderTicket, working: list[SimOrder]) -> None:
    """Refuse (403) an order that could trade against the account's own opposite-side order."""
    if any(could_cross(ticket, order.ticket) for order in working):
        raise ApiError(403, 40310000, "potential wash trade detected. use complex orders")


def check_affordable(engine: MatchingEngine, ticket: OrderTicket) -> None:
    """Refuse (403, 40310000) an order the account cannot pay for or has not the shares for."""
    quote = engine.feed.quote(ticket.symbol)
    ref = (
        ticket.limit_price
        or ticket.stop_price
        or (quote.ask if ticket.side == "buy" else quote.bid)
    )
    qty = ticket.qty if ticket.qty is not None else (ticket.notional or 0.0) / ref
    if not engine.fractional_trading and not float(qty).is_integer():
        raise unprocessable("fractional trading is not enabled for this account")
    held = engine.ledger.holdings.get(ticket.symbol)
    held_qty = held.qty if held else 0.0
    totals = engine.ledger.totals(engine.feed.prices(), engine.reserved())
    if ticket.side == "buy":
        cost = max(qty - max(-held_qty, 0.0), 0.0) * ref
    elif held_qty > 0:
        available = held_qty - engine.held_for_sells(ticket.symbol)
        if qty > available + 1e-9:
            raise ApiError(
                403,
                40310000,
                f"insufficient qty available for order (requested: {qty:g}, "
                f"available: {max(available, 0.0):g})",
            )
        return
    else:
        if engine.no_shorting:
            raise ApiError(403, 40310000, "account is not allowed to short")
        if not float(qty).is_integer():
            raise unprocessable("fractional orders cannot be sold short")
        cost = qty * ref
    if cost > totals.buying_power + 1e-6:
        raise ApiError(
            403,
            40310000,
            "insufficient buying power",
            buying_power=f"{totals.buying_power:.2f}",
            cost_basis=f"{cost:.2f}",
        )
