"""Our working orders that Alpaca's listing of open orders leaves out: looked up, not trusted.

While the trade-updates stream is up the broker hears of its orders' changes from it alone
(REST is read for them only while it is down or after a reconnect). A stream can go silent
without dropping: connected and listening, it sends nothing (a lost message, a server that
stopped publishing). A fill still shows, in the position (``engine.outside_changes`` then looks
the order up), but an order that ended unfilled (rejected after it was accepted, cancelled by
hand in Alpaca's web page, expired) changes no position: its row said ``pending_new`` or
``new`` for the rest of the session, its symbol waited for it ("the strategies wait while a
hand order works") and a cancel the desk sent stayed unconfirmed, while Alpaca had the order
ended.

The listing of open orders is read anyway (every ``OPEN_ORDERS_TTL`` seconds at most, for
orders placed elsewhere on the account). An order this broker followed as working before the
listing was asked for, that the listing does not hold, has ended at Alpaca, or the listing
lags: either way it is looked up by its client id at the next ``drain_updates``
(``AlpacaBroker._refresh_pairs``), and what Alpaca answers is merged like any view (a stale
one changes nothing). One look-up per such order per listing, none while the two agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.core.orders import Order

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca_reads import AlpacaReads

LISTING_EVENT = "listing"
"""The event a look-up made for an order the listing left out is merged under."""


def working_before(broker: AlpacaReads) -> set[str]:
    """Client ids of our orders Alpaca has acknowledged and that work as far as we know (a
    cancel Alpaca has not confirmed included): each should be in a listing asked for now."""
    return {
        cid
        for cid, tracked in broker._tracked.items()
        if tracked.order.broker_order_id is not None
        and (not tracked.order.status.is_final or cid in broker._unconfirmed)
    }


def look_up_unlisted(broker: AlpacaReads, before: set[str], listed: list[Order]) -> None:
    """Mark for a look-up each order of ``before`` that ``listed`` (a fresh listing of open
    orders, pairs folded into their parents) leaves out and that still works by our record."""
    shown = {order.client_order_id for order in listed}
    for cid in sorted(before - shown):
        tracked = broker._tracked.get(cid)
        if tracked is None:
            continue
        if tracked.order.status.is_final and cid not in broker._unconfirmed:
            continue  # heard of its end meanwhile
        broker._refresh.setdefault(cid, LISTING_EVENT)
