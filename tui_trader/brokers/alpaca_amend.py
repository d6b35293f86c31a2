"""Changing a working Alpaca order: a cancel confirmed by the broker, and a replace.

Alpaca cancels asynchronously (204, then ``pending_cancel``, then ``canceled``), and a sell for
the shares a working stop holds is refused ("insufficient qty available"), so an exit waits for
``cancel_confirmed`` before it goes out.

Replacing (``PATCH /v2/orders/{id}``, alpaca-py's ``replace_order_by_id``) is how the desk
resizes a protective stop without a moment unprotected.
Alpaca creates a new order (our new client id, the new quantity and prices) that ``replaces`` the
old one, which becomes ``replaced``; but its answer does not mean the old one was replaced: the
old one may fill before the new one reaches the exchange, and the new one is then rejected. So
the old order ends as a cancel Alpaca only accepted does (``cancel_pending``): its row stays open
(``pending_cancel``), its symbol takes no new orders, and it is looked up (stream down, or at the
next start) until Alpaca says ``replaced`` or shows it filled, the fill recorded against it.
alpaca-py retries a PATCH answered 429/504 like any request, so a lost answer is looked up by
the new client id before anything is concluded: found, it is the answer; absent after a
404/422, the old order was no longer working; absent after another failure, the replace's
fate is in doubt (``BrokerError``, which halts the session).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_calls import classify
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.core import waiting
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca import AlpacaBroker


def replace_order(
    broker: AlpacaBroker, client_order_id: str, request: OrderRequest
) -> Order | None:
    """Replace the tracked order ``client_order_id`` by ``request``; the new order's state
    (``rejected`` with the reason: the old one still works), or ``None`` if the old order is
    no longer working (filled, cancelled, not ours)."""
    from alpaca.trading.requests import ReplaceOrderRequest

    tracked = broker._tracked.get(client_order_id)
    if tracked is None:
        return None
    old = tracked.order
    if old.status.is_final or old.broker_order_id is None:
        return None
    change = ReplaceOrderRequest(
        qty=int(request.qty),
        stop_price=request.stop_price,
        limit_price=request.limit_price,
        client_order_id=request.client_order_id,
    )
    broker.contradictions.sent(request.client_order_id)
    try:
        new = to_domain_order(broker.client.replace_order_by_id(old.broker_order_id, change))
    except Exception as exc:
        failure = classify(exc)
        if failure is None:
            raise
        found = broker._settle(request)
        if found is None:
            if failure.status in (404, 422):
                return None
            if not failure.transient:
                rejected = Order.from_request(request, OrderStatus.REJECTED, failure.message)
                return broker._track(rejected, request)
            raise BrokerError(f"replacing order {client_order_id}: {failure.message}") from exc
        new = found
    # A 200 does not mean the old order was replaced: it may fill before the new one reaches
    # the exchange (the new one is then rejected). Like a cancel Alpaca only accepted, it is
    # followed until Alpaca says ``replaced`` or shows it filled; its row stays open.
    tracked.order = replace(
        old,
        status=OrderStatus.CANCELED,
        cancel_pending=True,
        reject_reason=f"replaced by {request.client_order_id}",
    )
    broker._unconfirmed.add(client_order_id)
    broker._updates.append(OrderUpdate(tracked.order, None, "pending_replace"))
    return broker._track(new, request)


def cancel_confirmed(broker: AlpacaBroker, client_order_id: str) -> bool:
    """Look the order up until Alpaca reports it cancelled (its view merged: what it filled
    before the cancel is reported); False if it filled or expired instead (its state merged,
    the fill reported) or is still working at the deadline (the request timeout)."""
    deadline = time.monotonic() + broker.policy.timeout
    wait = 0.05
    while True:
        found = broker.get_order(client_order_id)
        if found is not None and found.status.is_final:
            # Merged either way: a cancelled order's view also says what it filled before the
            # cancel took. Kept as status alone, the order turned final with the fills last
            # seen, and with the stream down (polls skip final orders) the rest never came.
            broker._apply(found, "poll")
            return found.status is OrderStatus.CANCELED
        if time.monotonic() >= deadline or waiting.wait(broker._stop, wait):  # beating
            return False
        wait = min(wait * 2, 0.5)
