"""Cancelling and closing by hand: one working order cancelled, one position closed, or all.

The cancel and close halves of ``engine.manual_orders``, kept apart so that each file does one
thing (the ticket's gate and send stay there). A cancel by hand the broker has not confirmed is
kept as working (``engine.manual_book``); a close first cancels the symbol's working orders
(all of them to flatten), except a protective exit, cancelled and confirmed just before the
closing order goes out. Each closing order passes the same risk gate and audit trail as a
ticket (``ManualOrders._gate_and_send``).

A mixin of ``ManualOrders`` (so of ``TradingSession``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.orders import Order, OrderRequest, Side
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.store.audit import AuditLog


class ManualClose:
    """Act on a cancel or a close asked for by hand (the session's thread)."""

    broker: Broker
    audit: AuditLog
    _cycle_orders: list[Order]
    _hand_cancels: dict[str, Order]
    """Orders cancelled by hand on the broker's 204 alone, by client id (``manual_book``)."""
    # Supplied by ``ManualOrders``: the refusal event, the fills-made positions, the gate and
    # send of one order with its notes, and a manual order's own client order id.
    _refused: Callable[..., RiskEvent]
    _as_fills_make: Callable[[dict[str, Position]], dict[str, Position]]
    _gate_and_send: Callable[..., bool]
    _manual_id: Callable[[str], str]

    def _cancel(self, client_order_id: str, events: list[RiskEvent]) -> bool:
        """Cancel one working order; say so if the broker no longer works it."""
        cancelled = self.broker.cancel(client_order_id)
        if cancelled is None:
            events.append(
                self._refused(f"cancel of {client_order_id} refused: not a working order")
            )
        else:
            self._cancelled(cancelled)
        return True

    def _cancelled(self, cancelled: Order) -> None:
        """Record a cancel by hand; one the broker has not confirmed is kept as working."""
        self.audit.order_update(cancelled)
        self._cycle_orders.append(cancelled)
        if cancelled.cancel_pending:
            self._hand_cancels[cancelled.client_order_id] = cancelled

    def _close(
        self,
        symbol: str | None,
        market_time: datetime,
        events: list[RiskEvent],
        notes: list[str],
    ) -> bool:
        """Close one position (cancelling its working orders first), or all of them; False if
        an order's fate is in doubt."""
        working = [o for o in self.broker.open_orders() if symbol is None or o.symbol == symbol]
        for order in working:
            if is_protective(order.client_order_id, order.order_type):
                continue  # cancelled (and confirmed) just before its closing order goes out
            cancelled = self.broker.cancel(order.client_order_id)
            if cancelled is not None:
                self._cancelled(cancelled)
        positions = self._as_fills_make(self.broker.positions())
        symbols = sorted(positions) if symbol is None else [symbol]
        if symbol is not None and symbol not in positions:
            events.append(self._refused(f"close {symbol} refused: no position", symbol))
            return True
        why = "manual: flatten all" if symbol is None else "manual: close position"
        for name in symbols:
            position = positions[name]
            request = OrderRequest(
                symbol=name,
                side=Side.SELL if position.qty > 0 else Side.BUY,
                qty=abs(position.qty),
                client_order_id=self._manual_id(name),
            )
            key = "f" if symbol is None else "c"
            if not self._gate_and_send(request, why, market_time, events, notes, key):
                return False
        return True
