"""Orders and what happens to them: the words the engine and every broker share for trading.

An order's side, type, time in force and status (in Alpaca's vocabulary, so one set of words
serves every broker), the request the engine sends, the broker's view of the order, the fills it
produces and the updates that report them. Money is a ``float``; times are timezone-aware UTC.
Pure values: nothing here imports a front end, an SDK or the store. Market and account values
(bars, positions, the account, signals) live in ``tui_trader.core.domain``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Side(StrEnum):
    """Which way an order or fill goes."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """+1 for a buy, -1 for a sell: the sign of the position change."""
        return 1 if self is _BUY else -1


class OrderType(StrEnum):
    """The order types the desk sends."""

    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"
    TRAILING_STOP = "trailing_stop"

    @property
    def is_stop(self) -> bool:
        """True for the types that wait for a trigger price (stop, stop-limit, trailing)."""
        return self in _STOP_TYPES


class OrderClass(StrEnum):
    """Whether an order stands alone or is a pair (Alpaca's ``order_class``)."""

    SIMPLE = "simple"
    OCO = "oco"
    """One-cancels-other exit: a limit (the take profit) and a stop leg, both working; the
    fill of one cancels the other. The desk sees the pair as one order: ``limit_price`` is the
    take profit, ``stop_price`` the stop leg's trigger, the fills those of either leg."""


class TimeInForce(StrEnum):
    """How long an order stays working (Alpaca's names)."""

    DAY = "day"
    GTC = "gtc"


class OrderStatus(StrEnum):
    """An order's life, in Alpaca's vocabulary so that one set of words serves every broker."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    """Sent (or maybe sent) and not known to the broker yet: unsettled, looked up again."""
    NOT_RECEIVED = "not_received"
    """The broker never received it: still unknown past the settlement window, and absent on
    two more look-ups (see ``tui_trader.engine.settlement``)."""

    @property
    def is_open(self) -> bool:
        """True while the order may still fill."""
        return self in _OPEN_STATUSES

    @property
    def is_final(self) -> bool:
        """True once nothing more can happen to the order."""
        return self in _FINAL_STATUSES


_BUY = Side.BUY
"""Named once: an enum's member costs a metaclass look-up each time it is named (3.11), and
``sign`` is read several times per order and fill."""

PENDING_CANCEL = "pending_cancel"
"""An order row's status while a cancel the broker only accepted is unconfirmed (Alpaca's word,
not an ``OrderStatus``: the desk treats the order as cancelled, the audit trail as not final)."""

_STOP_TYPES = frozenset({OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP})
_OPEN_STATUSES = frozenset({OrderStatus.PENDING_NEW, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
_FINAL_STATUSES = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.NOT_RECEIVED,
    }
)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What the engine wants a broker to do, before the broker has seen it.

    ``client_order_id`` is deterministic (session, iteration, symbol, leg) so that after a lost
    answer the broker can be asked whether it already has the order. ``rationale`` is the
    human-readable why that the audit trail keeps with the order.
    """

    symbol: str
    side: Side
    qty: float
    client_order_id: str
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    rationale: str = ""
    stop_price: float | None = None
    """Trigger price of a stop or stop-limit order (a trailing stop's first trigger)."""
    trail_percent: float | None = None
    """A trailing stop's distance from the best price since it was placed, in percent."""
    order_class: OrderClass = OrderClass.SIMPLE

    def with_qty(self, qty: float, note: str) -> OrderRequest:
        """The same request with another quantity and the reason appended to its rationale."""
        rationale = f"{self.rationale}; {note}" if self.rationale else note
        return replace(self, qty=qty, rationale=rationale)


@dataclass(frozen=True, slots=True)
class Order:
    """A broker's view of an order at one moment."""

    client_order_id: str
    symbol: str
    side: Side
    qty: float
    order_type: OrderType
    status: OrderStatus
    limit_price: float | None = None
    time_in_force: TimeInForce = TimeInForce.DAY
    filled_qty: float = 0.0
    filled_avg_price: float | None = None
    broker_order_id: str | None = None
    submitted_at: datetime | None = None
    reject_reason: str | None = None
    stop_price: float | None = None
    """Trigger price (a trailing stop's current one; an OCO's stop leg's)."""
    trail_percent: float | None = None
    order_class: OrderClass = OrderClass.SIMPLE
    leg_ids: tuple[str, ...] = ()
    """The broker's client ids of the pair's other leg (an OCO's stop), whose own updates
    are this order's."""
    cancel_pending: bool = False
    """Cancelled on the broker's acceptance alone (Alpaca's 204): a fill may still beat the
    cancel, so the audit trail keeps the row ``pending_cancel`` (not final) until the broker's
    own word, and a later start looks it up again."""
    updated_at: datetime | None = None
    """When the broker last changed the order (its ``updated_at``), if it says."""
    filled_at: datetime | None = None
    """When the broker filled the order completely (its ``filled_at``), if it says."""
    replaced_by: str | None = None
    """Set when the broker says the order was *replaced* (Alpaca's ``replaced``): the broker's
    id of the order that took its place ("" if it did not name one). Its status stays
    ``canceled`` (ended unfilled: every reader of a final order stays right), but a replaced
    exit is not gone: its replacement protects the position, so an exit found ended is taken
    for cancelled only when this is ``None`` (a sell or a second stop beside the replacement
    would sell the shares twice)."""

    @classmethod
    def from_request(cls, request: OrderRequest, status: OrderStatus, reason: str) -> Order:
        """The order as the desk asked for it, in ``status`` (refused, unknown) with a reason."""
        return cls(
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            qty=request.qty,
            order_type=request.order_type,
            status=status,
            limit_price=request.limit_price,
            time_in_force=request.time_in_force,
            reject_reason=reason,
            stop_price=request.stop_price,
            trail_percent=request.trail_percent,
            order_class=request.order_class,
        )

    @property
    def row_status(self) -> str:
        """The status the audit trail writes: ``pending_cancel`` while a cancel the broker only
        accepted may still lose to a fill, else the order's own."""
        if self.cancel_pending and self.status is OrderStatus.CANCELED:
            return PENDING_CANCEL
        return str(self.status)

    @property
    def was_replaced(self) -> bool:
        """Whether the broker said another order replaced this one (``replaced_by``)."""
        return self.replaced_by is not None

    @property
    def remaining_qty(self) -> float:
        """Quantity still working (zero once the order is final)."""
        return 0.0 if self.status.is_final else max(self.qty - self.filled_qty, 0.0)


def unfilled(order: Order) -> Order:
    """``order`` as its row is written before the fills it already carries are recorded:
    working, nothing filled. Its state and fills then go in together, in one commit (the
    broker's update with the fill); a process killed between leaves an open row, which the
    next start looks up and records whole. Written ``filled`` first, the row was final
    without its fill, and no start looked at it again."""
    return replace(
        order, status=OrderStatus.NEW, filled_qty=0.0, filled_avg_price=None, cancel_pending=False
    )


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution: part or all of an order, with what it cost beyond the price."""

    client_order_id: str
    symbol: str
    side: Side
    qty: float
    price: float
    timestamp: datetime
    commission: float = 0.0
    slippage: float = 0.0
    """Dollar cost of slippage against the reference price (positive means it cost us)."""
    fill_id: str = ""
    time_note: str = ""
    """Why ``timestamp`` is not the broker's own time for the fill, in plain words ("" when it
    is): the broker's clock said something that cannot be true (``fill_time``)."""


FUTURE_TOLERANCE = timedelta(seconds=5)
"""How far ahead of this machine's clock a broker's fill time may be and still be taken: two
clocks kept by NTP differ by milliseconds; beyond a few seconds one of them is wrong."""


CLOCK_AHEAD = "ahead of this machine's clock"
"""The words of a fill time clamped because the broker's clock runs ahead of ours (a sandbox
sped up, a machine clock behind): said once a session, since every later fill is the same."""


def fill_time(
    order: Order, now: datetime, event_time: datetime | None = None
) -> tuple[datetime, str]:
    """When the new part of ``order``'s fill happened, by the broker's word, and why it was
    not taken as said ("" when it was).

    The broker's own time, in this order: ``event_time`` (a stream fill event's timestamp: the
    execution's time), the order's ``filled_at`` once it is filled, its ``updated_at`` (the
    last change, no earlier than the newest execution), else ``now`` (nothing said). A fill
    learned late (the stream down, a restart, an order in doubt settled later) so keeps the
    time money moved, not the time the desk heard of it. Never trusted blindly: a time more
    than ``FUTURE_TOLERANCE`` ahead of ``now`` is clamped to ``now``, one before the order's own
    submission to its submission, each with its reason.
    """
    said = event_time
    if said is None and order.status is OrderStatus.FILLED:
        said = order.filled_at
    if said is None:
        said = order.updated_at
    if said is None:
        return now, ""
    said = _aware(said)
    shown = said.strftime("%Y-%m-%d %H:%M:%S UTC")
    if said > now + FUTURE_TOLERANCE:
        ahead = (said - now).total_seconds()
        return now, (
            f"the broker stamped the fill of order {order.client_order_id} ({order.symbol}) "
            f"at {shown}, {ahead:.0f} s {CLOCK_AHEAD}: recorded at this machine's time "
            "instead"
        )
    submitted = _aware(order.submitted_at) if order.submitted_at is not None else None
    if submitted is not None and said < submitted:
        return submitted, (
            f"the broker stamped the fill of order {order.client_order_id} ({order.symbol}) "
            f"at {shown}, before the order's submission "
            f"({submitted.strftime('%Y-%m-%d %H:%M:%S UTC')}): recorded at its submission "
            "time instead"
        )
    return said, ""


def _aware(when: datetime) -> datetime:
    """``when`` as a timezone-aware UTC time (a naive one is taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def fill_increment(
    order: Order,
    known_qty: float,
    known_notional: float,
    now: datetime,
    reference_price: float | None = None,
    event_time: datetime | None = None,
) -> Fill | None:
    """The execution hidden in an order's cumulative fill since ``known_qty`` was recorded.

    Brokers report filled quantity and average price cumulatively; the new part's price is what
    the notional grew by. The fill id is the broker order id and the cumulative quantity, so the
    same state seen twice (a replayed event, a poll after the stream) is the same fill, whatever
    time each view gives it. Its time is the broker's (``fill_time``: ``event_time``, a stream
    fill event's, else the order's own times), ``now`` when the broker says none.
    """
    new_qty = order.filled_qty
    if new_qty <= known_qty + 1e-9 or order.filled_avg_price is None:
        return None
    qty = new_qty - known_qty
    price = (new_qty * order.filled_avg_price - known_notional) / qty
    slippage = (price - reference_price) * qty * order.side.sign if reference_price else 0.0
    timestamp, note = fill_time(order, now, event_time)
    return Fill(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        qty=qty,
        price=round(price, 6),
        timestamp=timestamp,
        slippage=round(slippage, 6),
        fill_id=f"{order.broker_order_id}:{_quantity_key(new_qty)}",
        time_note=note,
    )


def _quantity_key(qty: float) -> str:
    """A cumulative quantity as a fill id writes it: to the billionth of a share (the desk's
    finest), trailing zeros dropped (``10``, ``0.5``). It was six significant digits
    (``:g``): 1,000,000 and 1,000,004 filled of one order both read ``1e+06``, and the second
    fill was dropped as a repeat."""
    return f"{qty:.9f}".rstrip("0").rstrip(".")


CANCEL_REFUSED = "order_cancel_rejected"
"""Alpaca's trade update for a cancel it answered 204 to and then could not carry out."""


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A change in an order's state reported by a broker, with the fill that caused it, if any."""

    order: Order
    fill: Fill | None = None
    event: str = ""
    """Alpaca's trade-update event name: new, fill, partial_fill, canceled, rejected, ..."""

    @property
    def cancel_refused(self) -> bool:
        """Whether this is the broker's word that a cancel it accepted was refused after all,
        the order working on (Alpaca's ``order_cancel_rejected``)."""
        return self.event == CANCEL_REFUSED and self.order.status.is_open
