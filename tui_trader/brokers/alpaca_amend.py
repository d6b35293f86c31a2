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
A new order that ends unfilled (the exchange rejected the replacement) gets its old one looked
up: still working, it is followed as working again (``works_on``), never as cancelled.
alpaca-py's own retries are off (``alpaca_calls.prepare``), and an answer can still be lost on
the way (a 504, a cut connection), so a failed PATCH is looked up by
the new client id before anything is concluded: found, it is the answer; absent after a
404/422, the old order is looked up: no longer working, nothing was replaced; still working,
Alpaca refused the change (``still_working``: rejected, the old one works on); absent after
another failure, the replace's fate is in doubt (``BrokerError``, which halts the session).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_calls import classify
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.brokers.alpaca_submit import settle
from tui_trader.core import waiting
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderUpdate

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca import AlpacaBroker

REPLACED_BY = "replaced by "
"""How a replaced order's reason names its replacement (the desk's row says it too)."""


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
        found = settle(broker, request)
        if found is None:
            if failure.status in (404, 422) and not still_working(broker, client_order_id):
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
        reject_reason=f"{REPLACED_BY}{request.client_order_id}",
    )
    broker._unconfirmed.add(client_order_id)
    broker._replacing[request.client_order_id] = client_order_id
    broker._updates.append(OrderUpdate(tracked.order, None, "pending_replace"))
    return broker._track(new, request)


def still_working(broker: AlpacaBroker, client_order_id: str) -> bool:
    """Whether the order a replace was answered 404/422 for still works, by its look-up
    (merged: what it filled is reported). Alpaca answers 422 both for an order no longer
    working and for a change it refuses (a sell stop priced at or above the market, which the
    market falling between the desk's bar and the PATCH makes of a good resize); taken for
    "no longer working", the refusal had the desk cancel the stop that still worked and send
    the refused price again: the position was left without a stop. ``BrokerError`` (the
    replace in doubt) if the look-up fails."""
    found = broker.get_order(client_order_id)
    if found is not None:
        broker._apply(found, "poll")
    return found is not None and found.status.is_open


def replacement_ended(broker: AlpacaBroker, new: Order) -> None:
    """Note a replace's new order that ended without a fill (rejected, or cancelled before it
    worked): its old order is looked up (``works_on``). Alpaca rejects the replacement when the
    old order filled first, but also when the exchange refuses it, and then the old order
    works on (``order_replace_rejected``): followed as cancelled, it was never seen again, and
    the desk, seeing no stop, sent a second one beside it (two stops for one position)."""
    if not new.status.is_final or new.client_order_id not in broker._replacing:
        return
    old = broker._replacing.pop(new.client_order_id)
    if new.filled_qty > 0 or old not in broker._unconfirmed:
        return  # the new one worked (the old was replaced), or the old one's end is known
    broker._replace_failed.add(old)
    broker._refresh[old] = "replace_rejected"


def resume_replace(broker: AlpacaBroker, old: Order) -> None:
    """Follow the replace of ``old``, an earlier run's order adopted cancelled but not
    confirmed, whose reason names its replacement (``replaced by <client id>``, the row's):
    the exchange had not decided when that run ended. Once the replacement ends unfilled, the
    old order is looked up like one this run replaced (``replacement_ended``); before, which
    order replaced which died with the earlier process, and the old stop, working on at
    Alpaca, stayed followed as cancelled: never resized, and the desk sent a second one
    beside it every cycle (refused for the shares the old one held)."""
    reason = old.reject_reason or ""
    new = reason.removeprefix(REPLACED_BY)
    if new and new != reason and new != old.client_order_id:
        broker._replacing[new] = old.client_order_id


def works_on(broker: AlpacaBroker, view: Order) -> bool:
    """Whether ``view`` shows a replaced order whose replacement ended unfilled still working:
    the replace did not happen, so it is followed as working again (its row reopens, its
    symbol's exit is the desk's to resize). A final view is merged as Alpaca's last word."""
    cid = view.client_order_id
    if cid not in broker._replace_failed:
        return False
    broker._replace_failed.discard(cid)
    if view.status.is_final or cid not in broker._unconfirmed:
        return False
    broker._unconfirmed.discard(cid)
    tracked = broker._tracked[cid]
    tracked.order = replace(
        tracked.order, status=view.status, cancel_pending=False, reject_reason=None
    )
    return True


def cancel_confirmed(broker: AlpacaBroker, client_order_id: str) -> bool:
    """Look the order up until Alpaca reports it cancelled (its view merged: what it filled
    before the cancel is reported); False if it filled, expired or was replaced instead (its
    state merged, the fill reported: a replaced order's replacement still works, holding the
    shares, so a sell after it would be refused, or sell them twice) or is still working at
    the deadline (the request timeout)."""
    deadline = time.monotonic() + broker.policy.timeout
    wait = 0.05
    while True:
        found = broker.get_order(client_order_id)
        if found is not None and found.status.is_final:
            # Merged either way: a cancelled order's view also says what it filled before the
            # cancel took. Kept as status alone, the order turned final with the fills last
            # seen, and with the stream down (polls skip final orders) the rest never came.
            broker._apply(found, "poll")
            return found.status is OrderStatus.CANCELED and not found.was_replaced
        if time.monotonic() >= deadline or waiting.wait(broker._stop, wait):  # beating
            return False
        wait = min(wait * 2, 0.5)
