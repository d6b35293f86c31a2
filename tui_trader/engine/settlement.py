"""Orders whose fate the broker has not told yet, followed by client order id until it does.

An order row is written before the order is sent. When the answer is lost, or the process dies
while the request is on its way, the broker may not know the order *yet*: a request can wait in
a queue or behind a slow gateway and be filled seconds later. So "not found" is not "never
received". Such an order stays ``unknown`` (open in the audit trail), no new order goes out for
its symbol, and it is looked up again every cycle and at every start. It settles when the broker
knows it (its status and fills are recorded, whenever they appear, each fill at the broker's time
for it: ``core.orders.fill_time``) or when ``SETTLE_WINDOW`` has passed since its row was written
and the broker then answers twice in a row that it has no such order: it is then
``not_received``.

The window is wall-clock time (an order restored at start was written by an earlier run), but
the wall clock can jump: an NTP step or a corrected clock moving minutes ahead would end a fresh
order's window at once, and its symbol could trade again while the first order is still on its
way (a duplicate). So for an order followed since it was sent, the rest of its window must also
pass on this process's monotonic clock (when the session has one: a wall-clock session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.domain import RiskEvent
from tui_trader.core.orders import Fill, Order, OrderStatus, fill_increment

SETTLE_WINDOW = timedelta(minutes=2)
"""How long after its row was written an order the broker does not know may still arrive."""
SETTLEMENT = "order_settlement"
"""Risk event type of an unsettled order's news (kept apart from start-up reconciliation)."""


@dataclass(slots=True)
class Pending:
    """One order in doubt: what the audit trail holds of it and when the window ends."""

    order: Order
    """The order as last recorded (status ``unknown`` or ``pending_new``)."""
    written_at: datetime
    known_qty: float = 0.0
    """Filled quantity already recorded (fills beyond it are new)."""
    known_notional: float = 0.0
    monotonic_due: float | None = None
    """The monotonic time its window ends too (``None``: the wall clock alone decides)."""
    seeded: bool = False
    """Left in doubt by the session's start: the broker's positions its trade ledger was
    seeded from may already hold this order's fills (``engine.waits``: booked once)."""


@dataclass(slots=True)
class Settled:
    """What one round of look-ups found: order states and fills to record, events to write."""

    orders: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    events: list[RiskEvent] = field(default_factory=list)
    seeded: set[str] = field(default_factory=set)
    """Client ids of the orders found that the start left in doubt (``Pending.seeded``)."""


class Unsettled:
    """The orders in doubt of one session, looked up by client order id until settled."""

    def __init__(
        self, window: timedelta = SETTLE_WINDOW, monotonic: Callable[[], float] | None = None
    ) -> None:
        """``monotonic``: a clock that never jumps (``time.monotonic``), for a session on the
        wall clock; a simulated clock's session has none."""
        self.window = window
        self._monotonic = monotonic
        self._pending: dict[str, Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def in_doubt(self) -> list[Order]:
        """The orders in doubt as last recorded (what is left of each: ``remaining_qty``), for
        the risk gate's measures (``risk.holdings``): counted as if filled where that is the
        stricter reading, until they settle."""
        return [pending.order for pending in self._pending.values()]

    def add(
        self,
        order: Order,
        written_at: datetime,
        known_qty: float = 0.0,
        known_price: float | None = None,
        now: datetime | None = None,
        seeded: bool = False,
    ) -> None:
        """Follow an order the broker does not know (yet); its row is kept ``unknown``.
        ``now``: the wall-clock time it is followed from (the rest of its window then has to
        pass on the monotonic clock too); ``seeded``: left by the start (``Pending.seeded``)."""
        if order.status is not OrderStatus.UNKNOWN:
            order = replace(order, status=OrderStatus.UNKNOWN)
        notional = known_qty * (known_price or 0.0)
        due = None
        if self._monotonic is not None and now is not None:
            left = (written_at + self.window - now).total_seconds()
            due = self._monotonic() + max(left, 0.0)
        self._pending[order.client_order_id] = Pending(
            order, written_at, known_qty, notional, due, seeded
        )

    def deadline(self, client_order_id: str) -> datetime:
        """When the broker's "not found" becomes final for this order."""
        return self._pending[client_order_id].written_at + self.window

    def _window_over(self, client_order_id: str, now: datetime) -> bool:
        """True once the order's window has passed: by the wall clock and, for an order
        followed since it was sent, by the monotonic clock (a wall clock that jumped ahead
        does not end it early)."""
        if now < self.deadline(client_order_id):
            return False
        due = self._pending[client_order_id].monotonic_due
        return due is None or self._monotonic is None or self._monotonic() >= due

    def blocking(self, symbol: str) -> str | None:
        """Why no new order may go out for ``symbol`` now, or None."""
        for cid, pending in self._pending.items():
            if pending.order.symbol == symbol:
                until = self.deadline(cid).strftime("%H:%M:%S UTC")
                return (
                    f"no new orders for {symbol}: order {cid} is unsettled (the broker does "
                    f"not know it yet; looking again each cycle until {until})"
                )
        return None

    def check(self, broker: Broker, now: datetime) -> Settled:
        """Look every pending order up once (twice past its window); settle what can be."""
        out = Settled()
        for cid in list(self._pending):
            pending = self._pending[cid]
            try:
                found = broker.get_order(cid)
                if found is None and self._window_over(cid, now):
                    found = broker.get_order(cid)  # the second "absent" makes it final
            except BrokerError:
                continue  # no answer is no news: still in doubt, asked again next time
            if found is None:
                if self._window_over(cid, now):
                    del self._pending[cid]
                    ended = self._not_received(pending)
                    # the broker's own record of it ends too: left unknown there, it was
                    # looked up every poll and its symbol counted as working for good (a
                    # halt's flatten never closed it, the end of the session named it)
                    broker.adopt(ended)
                    out.orders.append(ended)
                    out.events.append(
                        _event(
                            f"order {cid} ({pending.order.side} {pending.order.qty:g} "
                            f"{pending.order.symbol}) was never received by the broker: "
                            f"absent on two look-ups {self.window.total_seconds():g} s after it "
                            "was sent",
                            "marked not_received; its symbol trades again",
                        )
                    )
                continue
            del self._pending[cid]
            if pending.seeded:
                out.seeded.add(cid)
            fill = fill_increment(found, pending.known_qty, pending.known_notional, now)
            if fill is not None:
                out.fills.append(fill)
            out.orders.append(found)
            if found.status.is_open:
                broker.adopt(found)
            out.events.append(
                _event(
                    f"order {cid}: unknown until now, {found.status} at the broker"
                    + (f" with {found.filled_qty:g} filled" if found.filled_qty else ""),
                    "recorded from the broker"
                    + ("; followed until done" if found.status.is_open else ""),
                )
            )
        return out

    @staticmethod
    def _not_received(pending: Pending) -> Order:
        """The pending order marked as never received."""
        return replace(
            pending.order,
            status=OrderStatus.NOT_RECEIVED,
            reject_reason="not found at the broker within the settlement window",
        )


def _event(detail: str, action: str) -> RiskEvent:
    """A settlement event."""
    return RiskEvent(SETTLEMENT, 1.0, 0.0, action, detail=detail)
