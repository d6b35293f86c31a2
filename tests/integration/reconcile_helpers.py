"""The next start's reconciliation against a stub broker, for tests that build the audit trail
directly (snapshots, fills, commit orders) and then ask what start-up would compare."""

from __future__ import annotations

from datetime import datetime

from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import Position
from tui_trader.core.orders import Order
from tui_trader.engine.reconcile import reconcile
from tui_trader.store.audit import AuditLog

ACCOUNT = "alpaca:PA1"
"""The broker account every session of these tests trades on."""


class HeldBroker:
    """The broker as start-up reconciliation asks it: no open orders, nothing recent to write
    back, ``held`` shares of SPY (no position at 0) and, if given, orders to look up by client
    order id."""

    def __init__(self, held: float, orders: dict[str, Order] | None = None) -> None:
        self.held = held
        self.orders = orders or {}

    def positions(self) -> dict[str, Position]:
        return {"SPY": Position("SPY", self.held, 100.0, 100.0)} if self.held else {}

    def open_orders(self) -> list[Order]:
        return []

    def get_order(self, client_order_id: str) -> Order | None:
        return self.orders.get(client_order_id)

    def orders_since(self, after: datetime) -> list[Order]:
        return []

    def adopt(self, order: Order) -> None:
        pass


def next_start(db: object, clock: FrozenClock, broker: HeldBroker) -> dict[str, tuple]:
    """The next session's start-up comparison on ``ACCOUNT``: symbol -> (expected, at the
    broker); empty when the broker holds what the audit trail expects."""
    audit = AuditLog(db, clock)
    audit.start_session("live", "alpaca", None, "test", ("SPY",), {}, account_key=ACCOUNT)
    result = reconcile(broker, audit, ACCOUNT)  # type: ignore[arg-type]
    audit.end_session("stopped", 0)
    return result.positions
