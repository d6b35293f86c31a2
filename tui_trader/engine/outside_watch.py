"""The session's side of ``engine.outside_changes``: what it asks the broker and the store.

At start, the broker's positions (read after reconciliation has recorded the fills that came
while no session ran) are compared with what this account's fills in the audit database make;
each cycle, with what the session's own fills make. A protective exit does not keep a symbol
from being checked (it rests until the price reaches it, and its fills come to the session like
any other); before a difference is called a change made outside, the session's orders in the
symbol are looked up at the broker, so an exit that filled a moment ago is counted as ours.

A mixin of ``TradingSession``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.orders import Fill, Order, OrderUpdate
from tui_trader.engine.ended_orders import record_ended_fills
from tui_trader.engine.outside_changes import OutsideChanges
from tui_trader.risk.stops import is_protective

if TYPE_CHECKING:
    from tui_trader.brokers import Broker
    from tui_trader.core.clock import Clock
    from tui_trader.engine.config import SessionConfig
    from tui_trader.engine.settlement import Unsettled
    from tui_trader.store.audit import AuditLog


def _is_exit(order: Order) -> bool:
    """Whether an order is one of the desk's protective exits (it does not keep its symbol
    from being checked)."""
    return is_protective(order.client_order_id, order.order_type)


class OutsideWatch:
    """Checks the broker's positions against the desk's own fills, at start and each cycle."""

    config: SessionConfig
    broker: Broker
    clock: Clock
    audit: AuditLog
    account_key: str
    outside: OutsideChanges
    protects: bool
    unsettled: Unsettled
    _cycle_fills: list[Fill]
    _apply_updates: Callable[[list[OrderUpdate]], int]

    def _outside_at_start(self) -> list[RiskEvent]:
        """The ``outside_change`` events of the symbols whose position at the broker differs
        from what this account's recorded fills make (they are left alone)."""
        positions = self.broker.positions()
        return self.outside.start(
            self._judged(positions),
            self.audit.recorded_positions(self.account_key),
            positions,
            self._working(),
            self._others_running,
            self._look_up_fills,
            adopt=self.config.adopt_positions,
        )

    def _check_outside(self, positions: dict[str, Position]) -> list[RiskEvent]:
        """This cycle's check of the broker's positions against the session's own fills."""
        return self.outside.check(
            self._judged(positions),
            positions,
            self._working(),
            self._others_running,
            self._look_up_fills,
            self._recorded_after_ended,
        )

    def _working(self) -> set[str]:
        """The symbols not quiet: an order the broker adapter follows works there (protective
        exits aside), or an order in doubt may still be filling (``unsettled``: an ended
        desk's order the start could not find yet, its request maybe still on its way). The
        start called the shares of such an order, filled a moment after its 404, a change made
        outside and left the symbol alone for the whole run (``leftovers29``)."""
        doubt = {order.symbol for order in self.unsettled.in_doubt()}
        return self.broker.working_symbols(ignore=_is_exit) | doubt

    def _judged(self, positions: dict[str, Position]) -> tuple[str, ...]:
        """The symbols checked: the session's own; with protective exits, every symbol held
        too (the session protects every position, and its exit must never cover shares that
        are not the desk's)."""
        symbols = self.config.symbols
        if not self.protects:
            return symbols
        return symbols + tuple(sorted(s for s in positions if s not in symbols))

    def _others_running(self) -> bool:
        """Whether another session of this account runs, or was killed without a start since
        (its row still ``running``): its fills are not ours, and a killed one's may not be
        recorded. Before, only a live one counted: a desk killed as its buy filled left shares
        the running desk called a change made outside, left alone, its exit covering none."""
        return self.audit.others_running(self.account_key)

    def _recorded_after_ended(self, symbol: str) -> float | None:
        """Record the late fills of this store's ended sessions' orders in ``symbol``
        (``engine.ended_orders``); what this account's recorded fills then make of it."""
        record_ended_fills(self.broker, self.audit, self.account_key, symbol, self.clock.now())
        record = self.audit.recorded_positions(self.account_key)
        return None if record is None else record.get(symbol, 0.0)

    def _look_up_fills(self, symbol: str) -> bool:
        """Look the session's orders in ``symbol`` up at the broker and record what changed;
        True if a fill in ``symbol`` turned up."""
        self.broker.look_up_orders(symbol)
        before = len(self._cycle_fills)
        self._apply_updates(self.broker.drain_updates())
        return any(fill.symbol == symbol for fill in self._cycle_fills[before:])
