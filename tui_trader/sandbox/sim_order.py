"""One order as the sandbox keeps it, and one trade update about it.

An order may carry legs (``bracket``, ``oco``, ``oto``): each leg is an order of its own, with
its ``parent``; the parent lists them in ``legs`` as Alpaca does. Stop-type orders keep their
trigger state here: the live ``stop_price`` (it moves for a trailing stop), the high-water mark
``hwm`` and whether the stop has been ``triggered``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime

from tui_trader.sandbox.ledger import Execution
from tui_trader.sandbox.order_rules import OrderTicket

OPEN_STATUSES = frozenset(
    {"accepted", "pending_review", "pending_new", "new", "partially_filled", "held"}
)
"""Statuses of an order a cancel takes (held legs included, as Alpaca lists them; one held
for review, ``review_rate``, too); the open listing shows ``LISTED_OPEN``."""
WORKING_STATUSES = frozenset(
    {"accepted", "pending_review", "pending_new", "new", "partially_filled"}
)
"""Statuses of an order that may still fill."""
LISTED_OPEN = OPEN_STATUSES | {"pending_replace", "pending_cancel"}
"""Statuses ``GET /v2/orders?status=open`` lists: an order being replaced is not final (it may
still fill before its replacement works), and Alpaca lists it as open; nor is one whose cancel
is pending (the ``slow_cancel_rate`` fault)."""


@dataclass(slots=True)
class SimOrder:
    """One order as the sandbox keeps it."""

    id: str
    ticket: OrderTicket
    status: str
    created_at: datetime
    updated_at: datetime
    filled_qty: float = 0.0
    filled_avg_price: float | None = None
    filled_at: datetime | None = None
    canceled_at: datetime | None = None
    failed_at: datetime | None = None
    expires_at: datetime | None = None
    expired_at: datetime | None = None
    replaced_at: datetime | None = None
    replaced_by: str | None = None
    replaces: str | None = None
    split_fill: bool = False
    rest_waits: int = 0
    """Bars the rest of a split order still waits before it fills (``partial_bars``)."""
    stale_view: SimOrder | None = None
    stop_price: float | None = None
    """The stop in force: the ticket's, or the trailing stop's current level."""
    hwm: float | None = None
    """A trailing stop's high-water mark (the lowest price seen, for a buy)."""
    triggered: bool = False
    auction_at: datetime | None = None
    """When an ``opg``/``cls`` order meets its auction (it is not worked before)."""
    legs: list[SimOrder] = field(default_factory=list)
    parent: SimOrder | None = None

    @property
    def remaining(self) -> float:
        """Quantity still to fill."""
        return max((self.ticket.qty or 0.0) - self.filled_qty, 0.0)

    def snapshot(self, live: bool = False) -> SimOrder:
        """A copy as REST shows it now (``live``: as it really is), legs copied too."""
        shot = copy.copy(self if live else (self.stale_view or self))
        shot.stale_view = None
        shot.ticket = copy.copy(shot.ticket)
        shot.legs = [leg.snapshot(live) for leg in shot.legs]
        return shot

    def oco_siblings(self) -> list[SimOrder]:
        """The other orders of this order's one-cancels-other pair (none for other orders)."""
        root = self.parent or self
        if root.ticket.order_class == "oco":
            members = [root, *root.legs]
        elif root.ticket.order_class == "bracket" and self.parent is not None:
            members = list(root.legs)
        else:
            return []
        return [m for m in members if m is not self]


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One trade update: the event name, the order as it was then, and the fill if any."""

    event: str
    order: SimOrder
    timestamp: datetime
    execution: Execution | None = None
    position_qty: float | None = None
