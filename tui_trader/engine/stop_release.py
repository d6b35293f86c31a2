"""Cancelling a symbol's protective exits before an order in it.

Brokers refuse a sell beyond the shares not held by other working sell orders (Alpaca:
"insufficient qty available"; an OCO pair holds its shares once), and Alpaca refuses an order
that could trade against one of the account's own working orders on the other side ("potential
wash trade detected"), so an order in a protected symbol first cancels that symbol's exit, and
waits for the cancel's confirmation (``_release_stops``). The exit is this session's own, or an
ended session's, taken over first (``engine.stop_takeover``).

A mixin of ``TradingSession`` under ``ProtectiveStops``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui_trader.brokers import BrokerError
from tui_trader.core.orders import Order, Side
from tui_trader.engine.stop_takeover import ENDED, FOREIGN, LIVE, OWN, StopTakeover

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.engine.claims import AccountClaims
    from tui_trader.store.audit import AuditLog


class StopRelease(StopTakeover):
    """Cancel a symbol's protective exits, each confirmed, before an order in it."""

    broker: Broker
    audit: AuditLog
    claims: AccountClaims | None
    _cycle_orders: list[Order]

    def _release_stops(self, symbol: str, side: Side | None = None) -> str | None:
        """Cancel ``symbol``'s protective exits before an order in it (an exit needs the
        stop's shares; an add would be refused as a wash trade): this session's own, and an
        ended session's (taken over first; by a session that keeps no exits only before a
        sell, ``droppable``, said and audited). Why the order must wait, if a cancel is not
        confirmed (the stop may have filled, or the broker is slow): the next cycle decides
        again from the broker's positions; "" when that wait was said already. ``side``: the
        order's (a session that keeps no exits cancels one only before a sell of its shares)."""
        claims = self.claims
        took = claims is not None and claims.took_over(symbol)
        if not self.protects and symbol not in self.droppable and not took:
            return None  # no ended session's exit to cancel before it: nothing to release
        try:
            listed = [o for o in self.broker.open_orders() if o.symbol == symbol]
            late = self.late_exits(symbol, [o.client_order_id for o in listed])
            if late is None:
                return f"the broker did not answer a look-up of {symbol}'s protective exits"
            listed += late
            whose = self.whose(listed)
            for order in listed:
                kind = whose.get(order.client_order_id)
                if kind is None:
                    continue
                cid = order.client_order_id
                if kind in (LIVE, FOREIGN):
                    return self.hold_reason(order, kind)
                if not self.protects and kind == ENDED and side is not order.side:
                    return self.hold_reason(order, kind)  # a buy beside it waits
                if not self.protects and kind == OWN and self.adopted_from(cid) is None:
                    continue
                if kind == ENDED:
                    waits = self._take_over_exit(order)
                    if waits is not None:
                        return waits
                cancelled = self.broker.cancel(cid, confirm=True)
                if cancelled is None:
                    waits = f"the cancel of its protective stop {cid} is not confirmed"
                    if self.protects:
                        return waits
                    return waits if self.drops.first(symbol, cid) else ""
                if not self.protects:
                    cancelled = self._dropped(cancelled)
                self._cancelled(cancelled)
        except BrokerError as exc:
            return f"the broker did not answer the cancel of its protective stop: {exc}"
        return None

    def _cancelled(self, order: Order | None) -> None:
        """Record a cancelled order (``None``: it was no longer working)."""
        if order is not None:
            self.audit.order_update(order)
            self._cycle_orders.append(order)
