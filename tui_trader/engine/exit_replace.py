"""Replacing a protective exit at the broker in one step, and telling whether one it could not
replace has ended.

A stop or a take-profit limit is resized by one replace (``ExitPlacing._place_exit``), never
without an exit in between. The replace is audited like a send (the new row first); an answer
in doubt is followed as unsettled. A replace that found nothing to replace (the old exit filled,
was cancelled, or a rejection is on its way) is looked up: ended, a fresh exit may go out at once
(not when it ended filled: ``engine.exit_placing``).

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.orders import Order, OrderRequest, OrderStatus

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.store.audit import AuditLog


class ExitReplace:
    """Replace an exit at the broker; look up one a replace found no longer working."""

    broker: Broker
    audit: AuditLog
    iteration: int
    _cycle_orders: list[Order]
    _in_doubt: Callable[[OrderRequest, BrokerError], None]
    """Record and follow an order whose fate is unknown (``OrderSend``)."""
    _record_ack: Callable[[Order], None]
    """Write the broker's answer into the order's row (``OrderSend``)."""

    def _ended(self, order: Order) -> Order | None:
        """The broker's word on ``order`` if it says it has ended (filled, cancelled, rejected,
        expired) though a listing showed it working: a stop whose replace found nothing to
        replace, or an exit (an OCO pair) whose cancel was not confirmed (still pending when
        the wait ran out, or a race it lost: it filled first). Ended unfilled, a fresh exit may
        go out at once; left for a later cycle, the position had none. Ended with a fill, the
        position read before is out of date (``_place_exit`` places nothing then). ``None``
        when the broker does not answer, or says it still works or its cancel is still
        pending (it may still fill): decided next cycle."""
        try:
            found = self.broker.get_order(order.client_order_id)
        except BrokerError:
            return None
        if found is None or not found.status.is_final or found.cancel_pending:
            return None
        return found

    def _replace_stop(
        self, old: Order, request: OrderRequest, market_time: datetime
    ) -> Order | None:
        """Replace ``old`` by ``request`` at the broker, audited like a send (the new row
        first); ``None`` if the outcome is in doubt, ``not_received`` if ``old`` was no longer
        working (nothing was replaced: the caller cancels and places instead)."""
        self.audit.order_pending(request, self.iteration, market_time)
        try:
            ack = self.broker.replace(old.client_order_id, request)
        except BrokerError as exc:
            self._in_doubt(request, exc)
            return None
        if ack is None:
            ack = Order.from_request(
                request, OrderStatus.NOT_RECEIVED, "not sent: the stop to replace is not working"
            )
        self._record_ack(ack)
        if ack.status is OrderStatus.NEW or ack.status is OrderStatus.PENDING_NEW:
            # At Alpaca not final yet: the old stop may still fill before its replacement works
            # (the new one is then rejected); the row stays open until Alpaca's word comes.
            done = replace(
                old,
                status=OrderStatus.CANCELED,
                cancel_pending=not self.broker.replace_confirmed,
                reject_reason=f"replaced by {ack.client_order_id}",
            )
            self.audit.order_update(done)
            self._cycle_orders.append(done)
        return ack
