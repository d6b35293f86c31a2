"""Translating orders between the desk's value types and alpaca-py's models.

Alpaca has more order states than the desk needs; the ones that mean "still working" (accepted,
pending_replace, held, ...) map to ``new`` and the ones that mean "done without a fill"
(done_for_day, stopped, suspended) map to ``expired`` or ``canceled``, so that the engine's
notion of an open order matches what can still fill.
"""

from __future__ import annotations

from typing import Any

from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderType, Side, TimeInForce

_STATUS = {
    "new": OrderStatus.NEW,
    "accepted": OrderStatus.NEW,
    "pending_new": OrderStatus.PENDING_NEW,
    "accepted_for_bidding": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "pending_cancel": OrderStatus.NEW,
    "pending_replace": OrderStatus.NEW,
    "replaced": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
    "done_for_day": OrderStatus.EXPIRED,
    "stopped": OrderStatus.NEW,
    "suspended": OrderStatus.NEW,
    "calculated": OrderStatus.NEW,
    "held": OrderStatus.NEW,
}


_TYPES = {t.value: t for t in OrderType}
"""Alpaca's order types by name: market, limit, stop, stop_limit, trailing_stop."""


def _value(enum_or_text: Any) -> str:
    """An alpaca-py enum's string value (or the string itself)."""
    return str(getattr(enum_or_text, "value", enum_or_text))


def to_request(request: OrderRequest) -> Any:
    """alpaca-py's request model for one of our orders (always with our client id)."""
    from alpaca.trading.enums import OrderSide
    from alpaca.trading.enums import TimeInForce as AlpacaTif
    from alpaca.trading.requests import (
        LimitOrderRequest,
        MarketOrderRequest,
        StopLimitOrderRequest,
        StopOrderRequest,
        TrailingStopOrderRequest,
    )

    common = {
        "symbol": request.symbol,
        "qty": request.qty,
        "side": OrderSide.BUY if request.side is Side.BUY else OrderSide.SELL,
        "time_in_force": AlpacaTif(str(request.time_in_force)),
        "client_order_id": request.client_order_id,
    }
    kind = request.order_type
    if kind is OrderType.LIMIT:
        return LimitOrderRequest(limit_price=request.limit_price, **common)
    if kind is OrderType.STOP:
        return StopOrderRequest(stop_price=request.stop_price, **common)
    if kind is OrderType.STOP_LIMIT:
        return StopLimitOrderRequest(
            stop_price=request.stop_price, limit_price=request.limit_price, **common
        )
    if kind is OrderType.TRAILING_STOP:
        return TrailingStopOrderRequest(trail_percent=request.trail_percent, **common)
    return MarketOrderRequest(**common)


def to_domain_order(raw: Any) -> Order:
    """Our ``Order`` from alpaca-py's ``Order`` model."""
    status = _STATUS.get(_value(raw.status), OrderStatus.UNKNOWN)
    filled_avg = raw.filled_avg_price
    return Order(
        client_order_id=str(raw.client_order_id),
        symbol=str(raw.symbol),
        side=Side(_value(raw.side)),
        qty=float(raw.qty or 0),
        order_type=_TYPES.get(_value(raw.order_type or raw.type), OrderType.MARKET),
        status=status,
        limit_price=float(raw.limit_price) if raw.limit_price is not None else None,
        time_in_force=TimeInForce.GTC if _value(raw.time_in_force) == "gtc" else TimeInForce.DAY,
        filled_qty=float(raw.filled_qty or 0),
        filled_avg_price=float(filled_avg) if filled_avg is not None else None,
        broker_order_id=str(raw.id),
        submitted_at=raw.submitted_at,
        reject_reason=None,
        stop_price=_float(raw.stop_price),
        trail_percent=_float(raw.trail_percent),
    )


def _float(value: Any) -> float | None:
    """A price field as a float (alpaca-py keeps them as strings), ``None`` if absent."""
    return float(value) if value is not None else None
