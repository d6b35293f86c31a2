"""The sandbox's matching engine: orders in, fills out, priced by the sandbox's market.

Market orders fill at the quote plus slippage as soon as the market is open; limit orders fill
when marketable on arrival, else when a later bar crosses their price (at the limit or at the
bar's open if that is better). Every change of an order's state is published as an Alpaca
trade-update event. The order rules (validation, buying power, available quantity) live in
``order_rules``; the money in ``ledger``.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.faults import FaultDice
from tui_trader.sandbox.feed import MarketFeed
from tui_trader.sandbox.hours import MarketHours
from tui_trader.sandbox.ledger import Execution, Ledger
from tui_trader.sandbox.order_rules import OrderTicket, check_affordable, parse_ticket

OPEN_STATUSES = frozenset({"accepted", "pending_new", "new", "partially_filled"})
DAY_LIKE = ("day", "opg", "cls")
"""Times in force that end with the session (opg and cls are simulated as day orders)."""


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
    split_fill: bool = False
    stale_view: SimOrder | None = None
    fill_qty_hint: float | None = field(default=None)

    @property
    def remaining(self) -> float:
        """Quantity still to fill."""
        return max((self.ticket.qty or 0.0) - self.filled_qty, 0.0)


@dataclass(frozen=True, slots=True)
class TradeEvent:
    """One trade update: the event name, the order as it was then, and the fill if any."""

    event: str
    order: SimOrder
    timestamp: datetime
    execution: Execution | None = None
    position_qty: float | None = None


class MatchingEngine:
    """Orders, positions and the account of the one sandbox user; thread-safe."""

    def __init__(
        self,
        feed: MarketFeed,
        hours: MarketHours,
        dice: FaultDice,
        cash: float,
        seed: int,
        slippage_bps: float,
        untradable: tuple[str, ...] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Open an account with ``cash``; ids come from a ``seed``-ed stream (repeatable runs)."""
        self.feed = feed
        self.hours = hours
        self.dice = dice
        self.now = now
        self.untradable = untradable
        self.suspend_trade = False
        self.no_shorting = False
        self.fractional_trading = True
        self.ledger = Ledger(cash, feed.market_time)
        self._slippage = slippage_bps / 10_000.0
        self._ids = random.Random(f"ids:{seed}")
        self.lock = threading.RLock()
        """Guards the orders and the ledger; readers of ``ledger`` take it too."""
        self._orders: dict[str, SimOrder] = {}
        self._by_client: dict[str, SimOrder] = {}
        self._open: dict[str, SimOrder] = {}
        """Orders that may still fill, so that each bar works only them."""
        self._stale: list[SimOrder] = []
        """Orders whose REST view is stale until the next bar (``stream_only_rate``)."""
        self._events: list[TradeEvent] = []
        self.listeners: list[Callable[[TradeEvent], None]] = []

    # -- queries -------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh UUID4 string from the seeded stream."""
        with self.lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def order(self, order_id: str) -> SimOrder:
        """The order with this id, as REST shows it; 404 if unknown."""
        with self.lock:
            found = self._orders.get(order_id)
            if found is None:
                raise ApiError(404, 40410000, "order not found")
            return copy.copy(found.stale_view or found)

    def order_by_client_id(self, client_order_id: str) -> SimOrder:
        """The order with this ``client_order_id``, as REST shows it; 404 if unknown."""
        with self.lock:
            found = self._by_client.get(client_order_id)
            if found is None:
                raise ApiError(404, 40410000, "order not found")
            return copy.copy(found.stale_view or found)

    def orders(self) -> list[SimOrder]:
        """Every order, oldest first, as REST shows them."""
        with self.lock:
            return [copy.copy(o.stale_view or o) for o in self._orders.values()]

    def reserved(self) -> float:
        """Buying power held by open buy orders and open short sales."""
        with self.lock:
            total = 0.0
            for order in self._open.values():
                if order.ticket.side == "buy":
                    price = order.ticket.limit_price or self.feed.quote(order.ticket.symbol).ask
                    total += order.remaining * price
            return total

    def held_for_sells(self, symbol: str) -> float:
        """Shares of ``symbol`` promised to open sell orders."""
        with self.lock:
            return sum(
                o.remaining
                for o in self._open.values()
                if o.ticket.side == "sell" and o.ticket.symbol == symbol
            )

    # -- commands ------------------------------------------------------------------------------

    def submit(self, body: dict, closing: bool = False) -> SimOrder:
        """Accept an order from a JSON body (or refuse it with an ``ApiError``); returns its ack.

        ``closing`` marks the orders the close-position endpoints place, which skip the
        buying-power check. The returned snapshot is the order as the POST answers it; fills
        that follow at once are visible to later requests and on the stream.
        """
        with self.lock:
            if self.suspend_trade:
                raise ApiError(403, 40310000, "new orders are rejected by user request")
            ticket = parse_ticket(body, self.new_id, self.feed.symbols, self.untradable)
            if ticket.client_order_id in self._by_client:
                raise ApiError(422, 40010001, "client_order_id must be unique")
            if not closing:
                check_affordable(self, ticket)
            now = self.now()
            is_open = self.hours.is_open(now)
            order = SimOrder(
                self.new_id(), ticket, "pending_new" if is_open else "accepted", now, now
            )
            if ticket.time_in_force in DAY_LIKE:
                order.expires_at = self.hours.next_close(now)
            self._orders[order.id] = order
            self._by_client[ticket.client_order_id] = order
            self._open[order.id] = order
            ack = copy.copy(order)
            order.split_fill = self.dice.roll("partial_rate")
            if self.dice.roll("stream_only_rate"):
                order.stale_view = copy.copy(order)
                self._stale.append(order)
            if self.dice.roll("reject_rate"):
                self._finish(order, "rejected", now)
            elif is_open:
                self._route(order, now)
        self._flush()
        return ack

    def cancel(self, order_id: str) -> None:
        """Cancel an open order; 404 if unknown, 422 if it can no longer be canceled."""
        with self.lock:
            order = self._orders.get(order_id)
            if order is None:
                raise ApiError(404, 40410000, "order not found")
            if order.status not in OPEN_STATUSES:
                raise ApiError(422, 42210000, f'order is already in "{order.status}" state')
            self._finish(order, "canceled", self.now())
        self._flush()

    def cancel_all(self) -> list[str]:
        """Cancel every open order; returns their ids."""
        with self.lock:
            now = self.now()
            ids = []
            for order in list(self._open.values()):
                self._finish(order, "canceled", now)
                ids.append(order.id)
        self._flush()
        return ids

    def expire(self) -> None:
        """End the day orders whose session has closed (event ``expired``)."""
        with self.lock:
            now = self.now()
            for order in list(self._open.values()):
                if order.expires_at is not None and order.expires_at <= now:
                    self._finish(order, "expired", now)
        self._flush()

    def on_bars(self) -> None:
        """A new bar arrived: catch REST up, work the open orders, mark the account to market."""
        self.expire()
        with self.lock:
            now = self.now()
            is_open = self.hours.is_open(now)
            for order in self._stale:
                order.stale_view = None
            self._stale = []
            for order in list(self._open.values()) if is_open else []:
                if order.status == "accepted":
                    self._route(order, now)
                else:
                    self._work(order, now, on_bar=True)
            self.ledger.mark(self.feed.market_time, self.feed.prices())
        self._flush()

    # -- internals (lock held) -----------------------------------------------------------------

    def _route(self, order: SimOrder, now: datetime) -> None:
        """Send an accepted order to the (simulated) venue: ``new``, then try to fill it."""
        order.status = "new"
        order.updated_at = now
        self._publish("new", order, now)
        if order.stale_view is not None:
            order.stale_view = copy.copy(order)
            order.stale_view.stale_view = None
        self._work(order, now, on_bar=False)

    def _work(self, order: SimOrder, now: datetime, on_bar: bool) -> None:
        """Fill what can be filled now; IOC/FOK leftovers are canceled."""
        ticket = order.ticket
        price = self._fill_price(ticket, on_bar)
        if price is not None:
            if ticket.qty is None:  # notional: the quantity is set by the fill price
                ticket.qty = round(ticket.notional / price, 9)  # type: ignore[operator]
            qty = order.remaining
            if order.split_fill and order.filled_qty == 0 and ticket.time_in_force != "fok":
                qty = _first_part(qty)
            self._fill(order, qty, price, now)
        if order.status in OPEN_STATUSES and ticket.time_in_force in ("ioc", "fok"):
            self._finish(order, "canceled", now)

    def _fill_price(self, ticket: OrderTicket, on_bar: bool) -> float | None:
        """Where the order would fill now, or None if it would not."""
        quote = self.feed.quote(ticket.symbol)
        buy = ticket.side == "buy"
        touch = quote.ask * (1 + self._slippage) if buy else quote.bid * (1 - self._slippage)
        limit = ticket.limit_price
        if limit is None:
            return round(touch, 4)
        if (buy and touch <= limit) or (not buy and touch >= limit):
            return round(min(touch, limit) if buy else max(touch, limit), 4)
        if not on_bar:
            return None
        bar = self.feed.latest_bar(ticket.symbol)
        if buy and bar.low <= limit:
            return round(min(limit, bar.open), 4)
        if not buy and bar.high >= limit:
            return round(max(limit, bar.open), 4)
        return None

    def _fill(self, order: SimOrder, qty: float, price: float, now: datetime) -> None:
        """Execute ``qty`` at ``price``: book it, update the order, publish and record it."""
        ticket = order.ticket
        position_qty = self.ledger.apply_fill(ticket.symbol, ticket.side, qty, price, now)
        paid = (order.filled_avg_price or 0.0) * order.filled_qty + qty * price
        order.filled_qty = round(order.filled_qty + qty, 9)
        order.filled_avg_price = round(paid / order.filled_qty, 4)
        done = order.remaining <= 1e-9
        order.status = "filled" if done else "partially_filled"
        order.updated_at = now
        if done:
            order.filled_at = now
            self._open.pop(order.id, None)
        kind = "fill" if done else "partial_fill"
        execution = Execution(
            id=f"{now:%Y%m%d%H%M%S%f}::{self.new_id()}",
            order_id=order.id,
            symbol=ticket.symbol,
            side=ticket.side,
            qty=qty,
            price=price,
            time=now,
            kind=kind,
            cum_qty=order.filled_qty,
            leaves_qty=order.remaining,
            order_status=order.status,
        )
        self.ledger.executions.append(execution)
        self._publish(kind, order, now, execution, position_qty)

    def _finish(self, order: SimOrder, status: str, now: datetime) -> None:
        """End an order as ``canceled``, ``expired`` or ``rejected`` and publish it."""
        order.status = status
        order.updated_at = now
        self._open.pop(order.id, None)
        if status == "canceled":
            order.canceled_at = now
        elif status == "expired":
            order.expired_at = now
        else:
            order.failed_at = now
        self._publish(status, order, now)

    def _publish(
        self,
        event: str,
        order: SimOrder,
        now: datetime,
        execution: Execution | None = None,
        position_qty: float | None = None,
    ) -> None:
        """Queue a trade update (handed to the listeners when the command is done)."""
        snapshot = copy.copy(order)
        snapshot.stale_view = None
        self._events.append(TradeEvent(event, snapshot, now, execution, position_qty))

    def _flush(self) -> None:
        """Hand queued trade updates to the listeners, in order (listeners must not block)."""
        with self.lock:
            events, self._events = self._events, []
            for event in events:
                for listener in list(self.listeners):
                    listener(event)


def _first_part(qty: float) -> float:
    """The first fill of a split order: half, in whole shares when the order is whole."""
    if qty >= 2 and float(qty).is_integer():
        return float(qty // 2)
    if qty >= 2:
        return round(qty / 2, 9)
    return qty
