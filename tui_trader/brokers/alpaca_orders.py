"""Translating orders between the desk's value types and alpaca-py's models.

Alpaca has more order states than the desk needs; the ones that mean "still working" (accepted,
pending_review, pending_replace, held, ...) map to ``new`` and the ones that mean "done without
a fill" (expired, replaced) map to ``expired`` or ``canceled``, so that the engine's notion of
an open order matches what can still fill. A ``replaced`` order carries ``replaced_by`` (its
replacement's id): a replaced exit is not a cancelled one, its replacement protects. Where a
state does not say the order is over (stopped, suspended, calculated, done_for_day: "done
executing for the day, and will not receive further updates until the next trading day", so a
GTC order can fill the next day) it stays ``new``: the position limit keeps counting it and its
row stays open until Alpaca says it is final. A state the desk does not know reads as
``unknown`` (an answer it cannot place: followed as unsettled, not as working), so every state
Alpaca documents is here: ``pending_review`` (an order held for Alpaca's review before it is
routed; alpaca-py knows it, the OpenAPI document does not) was once missing, and the desk's buy
so answered was taken for an answer lost and left out of the working orders the limits count.

An OCO exit is two orders at Alpaca (the take-profit limit, whose single leg is the stop); the
desk sees one: ``to_domain_order`` folds the leg into its parent (the stop price, the fills of
either, working while either works), so what the pair holds is counted once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tui_trader.brokers.alpaca_numbers import UnreadableAnswer, optional
from tui_trader.core.orders import (
    Order,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

_STATUS = {
    "new": OrderStatus.NEW,
    "accepted": OrderStatus.NEW,
    "pending_new": OrderStatus.PENDING_NEW,
    "pending_review": OrderStatus.NEW,  # held for Alpaca's review: not routed yet, not gone
    "accepted_for_bidding": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "pending_cancel": OrderStatus.NEW,
    "pending_replace": OrderStatus.NEW,
    "replaced": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
    "done_for_day": OrderStatus.NEW,  # not final: it works again the next trading day
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
    if request.order_class is OrderClass.OCO:
        from alpaca.trading.enums import OrderClass as AlpacaClass
        from alpaca.trading.requests import StopLossRequest, TakeProfitRequest

        return LimitOrderRequest(
            limit_price=request.limit_price,
            order_class=AlpacaClass.OCO,
            take_profit=TakeProfitRequest(limit_price=request.limit_price),
            stop_loss=StopLossRequest(stop_price=request.stop_price),
            **common,
        )
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
    """Our ``Order`` from alpaca-py's ``Order`` model (an OCO with its leg folded in)."""
    order = _one_order(raw)
    legs = getattr(raw, "legs", None) or []
    if _value(getattr(raw, "order_class", "") or "") != "oco":
        return order
    return _fold_oco(order, [_one_order(leg) for leg in legs])


def one_contract(raw: Any) -> bool:
    """Whether ``raw`` names one symbol and one side, as every order the desk sends does.

    A multi-leg options order (``order_class`` ``mleg``: a spread placed by hand in Alpaca's
    web page, or by another program, on the account a desk trades) names neither at its top
    level; its legs do. Read as one of the desk's, ``Side(None)`` raised ``ValueError`` out of
    the cycle: the desk halted and ended with a traceback, and its next start failed the same
    way while the order was listed. No desk trades or follows such an order: listings and the
    trade stream leave it out (a halt's cancel keeps it, as any order placed outside the
    desk). One of the desk's own naming neither is an unreadable answer (``_one_order``)."""
    return raw.symbol is not None and raw.side is not None


def judged_order(raw: Any) -> Order:
    """``to_domain_order``, or for an order one of whose numbers cannot be read, the order
    without its numbers (quantities 0, prices unknown): for a halt judging which orders to
    cancel by what they are (client id, type, symbol, side), never by their numbers. Refused
    whole, one such order in the account's listing (even one placed by hand) failed the
    halt's listing and its cancel, every wake: the desk's working buy went on working after
    the kill switch (``review29b``)."""
    try:
        return to_domain_order(raw)
    except UnreadableAnswer:
        return Order(
            client_order_id=str(raw.client_order_id),
            symbol=str(raw.symbol),
            side=Side(_value(raw.side)),
            qty=0.0,
            order_type=_TYPES.get(_value(raw.order_type or raw.type), OrderType.MARKET),
            status=_STATUS.get(_value(raw.status), OrderStatus.UNKNOWN),
            broker_order_id=str(raw.id),
        )


def _fold_oco(parent: Order, legs: list[Order]) -> Order:
    """One order for an OCO pair: the parent's limit, the stop leg's trigger, the fills of
    both; filled once either leg filled, working while either works, else as the parent
    ended. Without its legs (a stream event on the parent) the stop price is unknown."""
    members = [parent, *legs]
    filled = sum(m.filled_qty for m in members)
    notional = sum(m.filled_qty * (m.filled_avg_price or 0.0) for m in members)
    if any(m.status is OrderStatus.FILLED for m in members):
        status = OrderStatus.FILLED
    elif any(m.status.is_open for m in members):
        status = OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.NEW
    else:
        status = parent.status
    stop = next((leg.stop_price for leg in legs if leg.stop_price is not None), None)
    return replace(
        parent,
        status=status,
        filled_qty=filled,
        filled_avg_price=round(notional / filled, 6) if filled > 0 else None,
        stop_price=stop,
        order_class=OrderClass.OCO,
        leg_ids=tuple(leg.client_order_id for leg in legs),
        updated_at=max((m.updated_at for m in members if m.updated_at), default=None),
        filled_at=max((m.filled_at for m in members if m.filled_at), default=None),
    )


def _one_order(raw: Any) -> Order:
    """One alpaca-py order as ours, legs aside; a quantity or price no order has (NaN, below
    zero, past ``BROKER_LIMIT``, a fill at a price of 0, filled with nothing filled) is
    ``UnreadableAnswer``."""
    status = _STATUS.get(_value(raw.status), OrderStatus.UNKNOWN)
    cid = str(raw.client_order_id)
    if not one_contract(raw):
        raise UnreadableAnswer(f"order {cid} names no symbol or no side")
    whose = f"order {cid} ({raw.symbol})"
    filled_qty = optional(raw.filled_qty, f"{whose}'s filled quantity", negative=False) or 0.0
    filled_avg = optional(raw.filled_avg_price, f"{whose}'s fill price", negative=False)
    if filled_avg == 0 and filled_qty > 0:
        raise UnreadableAnswer(f"{whose}'s fill price is 0 for {filled_qty:g} filled")
    if status is OrderStatus.FILLED and filled_qty <= 0:  # (review29b: a row "filled" with
        # 0 shares, the fill never recorded, the symbol then taken as changed outside)
        raise UnreadableAnswer(f"{whose} is filled with {filled_qty:g} filled")
    return Order(
        client_order_id=cid,
        symbol=str(raw.symbol),
        side=Side(_value(raw.side)),
        qty=optional(raw.qty, f"{whose}'s quantity", negative=False) or 0.0,
        order_type=_TYPES.get(_value(raw.order_type or raw.type), OrderType.MARKET),
        status=status,
        limit_price=optional(raw.limit_price, f"{whose}'s limit price", negative=False),
        time_in_force=TimeInForce.GTC if _value(raw.time_in_force) == "gtc" else TimeInForce.DAY,
        filled_qty=filled_qty,
        filled_avg_price=filled_avg,
        broker_order_id=str(raw.id),
        submitted_at=raw.submitted_at,
        reject_reason=None,
        stop_price=optional(raw.stop_price, f"{whose}'s stop price", negative=False),
        trail_percent=optional(raw.trail_percent, f"{whose}'s trail percent", negative=False),
        updated_at=getattr(raw, "updated_at", None),
        filled_at=getattr(raw, "filled_at", None),
        replaced_by=_replaced_by(raw),
    )


def _replaced_by(raw: Any) -> str | None:
    """The broker id of the order that replaced ``raw`` ("" if Alpaca did not name it), or
    ``None`` if ``raw`` was not replaced: ``replaced`` maps to ``canceled`` (ended unfilled),
    and this keeps the two apart (a replaced exit's replacement still protects the position)."""
    if _value(raw.status) != "replaced":
        return None
    by = getattr(raw, "replaced_by", None)
    return "" if by is None else str(by)
