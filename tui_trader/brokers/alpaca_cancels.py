"""Cancelling at Alpaca: one order by its id, or the account's open orders but those kept.

Alpaca answers a cancel with 204 and cancels asynchronously; an order already filled, cancelled
or expired there answers 404 or 422, which means "nothing to cancel", not a failure. A halt
that must leave some orders working (other desks' protective exits, the user's own orders:
``engine.halt_keeps``) cannot use Alpaca's one-request "cancel all orders", so it lists the
account's open orders afresh (not the cached list ``open_orders`` may give while the stream is
up: an order placed a moment ago must be seen to be kept) and cancels the others one by one;
when the listing holds nothing to keep, one "cancel all" still does it in one request. The
listing and each cancel go through the request budget's priority lane, ahead of reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from tui_trader.brokers.alpaca_calls import classify, with_retries
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.core.orders import Order, OrderStatus

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca import AlpacaBroker


def cancel_by_id(broker: AlpacaBroker, broker_id: str, what: str) -> bool:
    """Cancel one order at Alpaca; False when it was no longer working there."""

    def call() -> bool:
        try:
            broker.client.cancel_order_by_id(broker_id)
        except Exception as exc:
            failure = classify(exc)
            if failure is not None and failure.status in (404, 422):
                return False  # already filled, cancelled or expired at Alpaca
            raise
        return True

    return bool(with_retries(call, broker.policy, what, broker._stop))


def cancel_all(broker: AlpacaBroker, keep: Callable[[Order], bool] | None) -> list[Order]:
    """Cancel the account's open orders (all of them without ``keep``; with it, every one it
    is false for); return the orders we track among them as cancelled."""
    if keep is None:
        ids = _cancel_every(broker)
    else:
        with broker.budget.urgent():  # the listing is the cancel's first step
            ids = _cancel_all_but(broker, keep)
    cancelled = []
    for tracked in broker._tracked.values():
        order = tracked.order
        if order.broker_order_id in ids and not order.status.is_final:
            tracked.order = replace(order, status=OrderStatus.CANCELED, cancel_pending=True)
            broker._unconfirmed.add(order.client_order_id)
            cancelled.append(tracked.order)
    return cancelled


def _cancel_every(broker: AlpacaBroker) -> set[str]:
    """Alpaca's "cancel all orders", one request; the ids it cancelled."""
    responses = broker._read("cancelling open orders", broker.client.cancel_orders)
    return {str(r.id) for r in responses or [] if getattr(r, "status", 200) in (200, 204)}


def _cancel_all_but(broker: AlpacaBroker, keep: Callable[[Order], bool]) -> set[str]:
    """The open orders listed afresh, each cancelled unless kept; the ids cancelled. When
    nothing listed is kept, one "cancel all" does it (one request however many there are:
    the kill switch on an account whose request budget is nearly spent)."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    # nested: an OCO's stop leg comes under its parent and goes with it
    request = GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500, nested=True)
    listed = broker._read("listing open orders", broker.client.get_orders, filter=request)
    doomed = [(str(raw.id), to_domain_order(raw)) for raw in listed]
    doomed = [(broker_id, order) for broker_id, order in doomed if not keep(order)]
    if len(doomed) == len(listed):
        return _cancel_every(broker)
    ids = set()
    for broker_id, order in doomed:
        if cancel_by_id(broker, broker_id, f"cancelling order {order.client_order_id}"):
            ids.add(broker_id)
    return ids
