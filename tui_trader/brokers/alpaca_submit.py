"""Sending an order to Alpaca at most once: a lost answer is settled by asking, not by resending.

Each order carries the engine's deterministic ``client_order_id``. If the answer to a submission
is lost (timeout, dropped connection, 5xx, 429) the broker asks Alpaca for that client id before
anything is sent again (once at most), so a duplicate never reaches the exchange; an order still
not found after a second try is left unsettled (``OrderStatus.UNKNOWN``), for the session to look
up again, and a look-up that fails raises ``BrokerError`` (the engine halts). A second send
the broker refuses leaves the order unsettled too: the first may still arrive (recorded
rejected, a sell had its stop placed again beside it). A first send answered with the code
Alpaca gives a duplicate client id, and not found, is a refusal (``_refused``): Alpaca gives
that code to any order it cannot process. The rest of the broker is ``brokers.alpaca``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError, Throttled
from tui_trader.brokers.alpaca_calls import DUPLICATE_CLIENT_ORDER_ID, classify
from tui_trader.brokers.alpaca_orders import to_domain_order, to_request
from tui_trader.core.orders import Order, OrderRequest, OrderStatus

if TYPE_CHECKING:
    from tui_trader.brokers.alpaca import AlpacaBroker


def submit_once(broker: AlpacaBroker, request: OrderRequest) -> Order:
    """Send once; on any doubt, ask by client id before (at most once) sending again."""
    broker.contradictions.sent(request.client_order_id)
    data = to_request(request)  # built before sending: its errors never mean "maybe sent"
    why = "answer lost on two submissions; not found at the broker (yet)"
    for attempt in range(2):
        refused = ""  # a first send answered with the duplicate's code: maybe a refusal
        try:
            sent = broker.client.submit_order(order_data=data)
            return broker._track(to_domain_order(sent), request)
        except Throttled as exc:  # not sent: the request budget held it back
            if attempt == 0:
                refused = Order.from_request(request, OrderStatus.REJECTED, f"not sent: {exc}")
                return broker._track(refused, request)
            break  # the first submission's fate is still open: unsettled below
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            if failure.status == 422 and failure.code == DUPLICATE_CLIENT_ORDER_ID:
                # it already arrived: fall through to the look-up; on a first send, nothing
                # could have arrived under this id (``_refused``)
                refused = failure.message if attempt == 0 else ""
            elif not failure.transient:
                # A refusal often means an order this listing does not show holds the
                # shares ("insufficient qty") or faces this one (a wash trade): the open
                # orders are read afresh next time, not from a list up to 30 s old.
                broker._open_cache = None
                if attempt:  # the second send refused: the first's fate is still open
                    why = (
                        f"first answer lost, the second submission refused ({failure.message}); "
                        "the first may still arrive"
                    )
                    break
                rejected = Order.from_request(request, OrderStatus.REJECTED, failure.message)
                return broker._track(rejected, request)
            elif broker._stop.is_set():
                raise BrokerError(f"order {request.client_order_id}: stopped") from exc
        try:
            found = settle(broker, request)
        except Throttled:
            break  # no look-up allowed now: unsettled, looked up again later
        if found is not None:
            return broker._track(found, request)
        if refused:
            return _refused(broker, request, refused)
    # Sent twice, answered twice with a fault, absent on both look-ups: the request may yet
    # arrive (a slow gateway), so the order is unsettled, not rejected. The session blocks
    # its symbol and looks it up again until the settlement window has passed.
    unknown = Order.from_request(request, OrderStatus.UNKNOWN, why)
    return broker._track(unknown, request)


def _refused(broker: AlpacaBroker, request: OrderRequest, message: str) -> Order:
    """``request`` rejected: its first send was answered 422 with the code Alpaca gives a
    duplicate client order id, and the look-up does not find it. Alpaca gives that code to
    every order it cannot process (a sell stop at or above the market, once the market fell
    through the stop's price after the desk's bar), and no earlier send of this client id
    could have arrived (the desk's ids are its session's own; alpaca-py's retries are off).
    Taken for a duplicate, the order was sent a second time and followed as in doubt for the
    settlement window: the desk neither placed the stop nor closed the position meanwhile."""
    broker._open_cache = None  # as after any refusal: the listing is read afresh
    rejected = Order.from_request(request, OrderStatus.REJECTED, message)
    return broker._track(rejected, request)


def settle(broker: AlpacaBroker, request: OrderRequest) -> Order | None:
    """Ask by client id until Alpaca answers; None if it does not have the order now."""
    try:
        return broker.get_order(request.client_order_id)
    except Throttled:
        raise
    except BrokerError as exc:
        raise BrokerError(f"order {request.client_order_id} state unknown: {exc}") from exc
