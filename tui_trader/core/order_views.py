"""How one view of an order compares with the last one kept: stale, or a contradiction.

An eventually consistent broker shows an order as it was (a repeated or reordered stream
message, a REST read lagging the stream): such a view changes nothing (``is_stale``). Some views
cannot be true whatever their order (more filled than the order's quantity, a filled quantity
going down in a later view, another symbol or side than sent): no reading of them keeps the
books right, and the session halts on them (``contradiction``). Apart from ``core.orders``,
which holds what an order is.
"""

from __future__ import annotations

from tui_trader.core.orders import Order, OrderStatus

_PROGRESS = {
    OrderStatus.UNKNOWN: -1,
    OrderStatus.NOT_RECEIVED: -1,
    OrderStatus.PENDING_NEW: 0,
    OrderStatus.NEW: 1,
    OrderStatus.PARTIALLY_FILLED: 2,
}
"""How far along a status is; every other final status ranks 3. Unknown and not-received are
the desk's guesses, below anything the broker says."""
QTY_EPS = 1e-9


def is_stale(view: Order, known: Order) -> bool:
    """True if ``view`` is a state the order had already passed when it was ``known``.

    An eventually consistent broker (a repeated or reordered stream message, a REST read that
    lags the stream) can show an order as it was: less filled, or as filled but less far along
    (``new`` after ``filled``, ``partially_filled`` after ``canceled``). Such a view changes
    nothing. A view of an order the broker has not acknowledged yet (``known`` has no broker
    id: our own guess) is never stale.
    """
    if known.broker_order_id is None:
        return False
    if view.filled_qty < known.filled_qty - QTY_EPS:
        return True
    if view.filled_qty > known.filled_qty + QTY_EPS:
        return False
    return _PROGRESS.get(view.status, 3) < _PROGRESS.get(known.status, 3)


def contradiction(view: Order, known: Order) -> str | None:
    """What in ``view`` cannot be true, given ``known`` (the last view we kept), in plain words;
    ``None`` if nothing.

    A fill for more than the order's quantity, and a filled quantity that went down in a view
    the broker stamped later than the one we kept (a reordered or stale view is stamped
    earlier, or not at all), are contradictions: no reading of them keeps the books right; so
    is a view in another symbol or on another side than sent (a QQQ buy's fill kept as TSLA's).
    """
    if view.symbol != known.symbol or view.side != known.side:
        return (
            f"the broker reports order {view.client_order_id} as a {view.side} of "
            f"{view.symbol}; it was sent as a {known.side} of {known.symbol}"
        )
    if view.filled_qty > view.qty + QTY_EPS:
        return (
            f"the broker reports {view.filled_qty:g} filled of order {view.client_order_id} "
            f"for {view.qty:g} {view.symbol}"
        )
    later = (
        view.updated_at is not None
        and known.updated_at is not None
        and view.updated_at > known.updated_at
    )
    if later and view.filled_qty < known.filled_qty - QTY_EPS:
        return (
            f"the broker's filled quantity of order {view.client_order_id} ({view.symbol}) "
            f"went down from {known.filled_qty:g} to {view.filled_qty:g}"
        )
    return None
