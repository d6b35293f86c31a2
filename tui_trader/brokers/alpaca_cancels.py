"""Cancelling at Alpaca: one order by its id, or the account's open orders but those kept.

Alpaca answers a cancel with 204 and cancels asynchronously; an order already filled, cancelled
or expired there answers 404 or 422, which means "nothing to cancel", not a failure. A halt
that must leave some orders working (other desks' protective exits, the user's own orders:
``engine.halt_keeps``) cannot use Alpaca's one-request "cancel all orders", so it lists the
account's open orders afresh (not the cached list ``open_orders`` may give while the stream is
up: an order placed a moment ago must be seen to be kept) and cancels the others one by one;
when the listing holds nothing to keep, one "cancel all" still does it in one request. The
listing goes page by page past Alpaca's 500 (``brokers.alpaca_pages``), each page's cancels
sent before the next page is asked for; past the listing's bound the halt cancels what it saw
and says that it could not see the rest. The listing and each cancel go through the request
budget's priority lane, ahead of reads. "Cancel all" answers 207 with a status per order; one
it could not cancel (a 500: "no longer cancelable", or busy being replaced) may still be working,
so the halt says so and acts again at the next cycle (before, it counted only the 200s and was
done, and the order went on working). A halt's cancel of one order answered 404/422 ("nothing to
cancel") is checked by a look-up: 422 also answers an order Alpaca will not cancel now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from tui_trader.brokers import Partial
from tui_trader.brokers.alpaca_calls import classify, with_retries
from tui_trader.brokers.alpaca_orders import judged_order, one_contract
from tui_trader.brokers.alpaca_pages import LIST_BOUND, LIST_PAGE, OrderPages
from tui_trader.core.orders import CANCEL_REFUSED, Order, OrderStatus

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
    is false for); return the orders we track among them as cancelled: a ``Partial`` list
    when the listing could not see every open order (``brokers.alpaca_pages``) or a "cancel
    all" refused some (they may still be working: asked again, the halt reaches them)."""
    unseen = ""
    if keep is None:
        ids, refused = _cancel_every(broker)
    else:
        with broker.budget.urgent():  # the listing is the cancel's first step
            ids, unseen, refused = _cancel_all_but(broker, keep)
    cancelled = []
    for tracked in broker._tracked.values():
        order = tracked.order
        if order.broker_order_id in ids and not order.status.is_final:
            tracked.order = replace(order, status=OrderStatus.CANCELED, cancel_pending=True)
            broker._unconfirmed.add(order.client_order_id)
            cancelled.append(tracked.order)
    if refused:  # may still be working: the halt asks again next cycle
        unseen = "; ".join(part for part in (unseen, refusal(refused)) if part)
    # cancelled orders leave the listing: asked again, it reaches further
    if not unseen:
        return cancelled
    return Partial(cancelled, unseen, again=bool(ids) or refused > 0, refused=refused)


def refusal(count: int) -> str:
    """The words for orders Alpaca's "cancel all" answered with an error (a 500 in its 207:
    "no longer cancelable", or busy being replaced): they may still be working."""
    return (
        f"the broker refused to cancel {count} order(s), which may still be working; the halt "
        "tries again next cycle (cancel them at the broker if they must stop now)"
    )


def _cancel_every(broker: AlpacaBroker) -> tuple[set[str], int]:
    """Alpaca's "cancel all orders", one request; the ids it cancelled, and how many orders
    it answered with an error instead (its 207 has a status per order: a 500 for one "no
    longer cancelable", which may have filled or may still be working: not cancelled)."""
    responses = broker._read("cancelling open orders", broker.client.cancel_orders) or []
    done = {str(r.id) for r in responses if getattr(r, "status", 200) in (200, 204)}
    return done, len(responses) - len(done)


def _cancel_all_but(
    broker: AlpacaBroker, keep: Callable[[Order], bool]
) -> tuple[set[str], str, int]:
    """The open orders listed afresh, page by page, each cancelled unless kept; the ids
    cancelled, what the listing could not see ('' when it saw everything) and how many
    cancels the broker refused (a "cancel all"'s 500s, ``_cancel_every``; a 422 for an order
    its look-up then finds still working, ``_still_working``). When the
    listing is one page and nothing on it is kept, one "cancel all" does it (one request
    however many there are: the kill switch on an account whose request budget is nearly
    spent). Longer listings cancel each page's orders before the next page is asked for."""
    from alpaca.trading.enums import QueryOrderStatus

    def read(request: object) -> list[object]:
        return broker._read("listing open orders", broker.client.get_orders, filter=request)

    pages = OrderPages(read, QueryOrderStatus.OPEN)
    ids: set[str] = set()
    listed = False
    refused = 0
    for page in pages:
        # numbers aside; another's multi-leg order (``one_contract``) kept, as outside orders are
        doomed = [(str(raw.id), judged_order(raw)) for raw in page if one_contract(raw)]
        doomed = [(broker_id, order) for broker_id, order in doomed if not keep(order)]
        if not listed and len(page) < LIST_PAGE and len(doomed) == len(page):
            done, refused = _cancel_every(broker)  # the whole listing, nothing on it kept
            return done, "", refused
        listed = True
        for broker_id, order in doomed:
            if cancel_by_id(broker, broker_id, f"cancelling order {order.client_order_id}"):
                ids.add(broker_id)
            elif _still_working(broker, order):
                refused += 1
    if not listed and not pages.cut:
        done, refused = _cancel_every(broker)  # nothing listed: nothing to keep either
        return done, "", refused
    if not pages.cut:
        return ids, "", refused
    said = (
        f"the account has more open orders than a halt can list ({pages.count:,} seen, at "
        f"most {LIST_BOUND:,}): older ones, the desk's among them, may still be working"
    )
    if ids:  # the cancelled leave the listing: the next look reaches further
        return (
            ids,
            said
            + "; the halt tries again next cycle (cancel them at the broker if they must stop now)",
            refused,
        )
    return (
        ids,
        said
        + "; every order it saw is one a halt keeps, so it cannot reach older ones: cancel the "
        "desk's older orders (client ids tt-...) at the broker",
        refused,
    )


def _still_working(broker: AlpacaBroker, order: Order) -> bool:
    """Whether an order whose cancel Alpaca answered "nothing to cancel" (404, 422) is still
    working by its own look-up. A 422 mostly means it has just filled or ended, but Alpaca
    also answers it for an order it will not cancel now (one being replaced): that order works
    on, and the halt must try it again."""
    found = broker.get_order(order.client_order_id)
    return found is not None and found.status.is_open


def cancel_refused(broker: AlpacaBroker, view: Order, event: str) -> bool:
    """Whether ``view`` is Alpaca's word that a cancel of ours it accepted was refused after
    all (``order_cancel_rejected``, the order still working): the order is followed as working
    again, its cancel no longer pending. Taken as any view of an order whose cancel is pending,
    it was read as still cancelled: the desk's row said ``pending_cancel`` for good and a halt
    said "cancelled 1 open order(s)" while Alpaca worked the order on, able to fill. Only the
    event says so: a REST read showing the order ``new`` may be one from before the cancel."""
    cid = view.client_order_id
    tracked = broker._tracked.get(cid)
    if event != CANCEL_REFUSED or cid not in broker._unconfirmed or tracked is None:
        return False
    if view.status.is_final:
        return False  # it ended meanwhile: merged as any end
    broker._unconfirmed.discard(cid)
    tracked.order = replace(tracked.order, status=view.status, cancel_pending=False)
    return True
