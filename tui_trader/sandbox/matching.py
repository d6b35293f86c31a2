"""The sandbox's matching engine: orders in, fills out, priced by the sandbox's market.

Market orders fill at the quote plus slippage as soon as the market is open; limit orders fill
when marketable on arrival, else when a later bar crosses their price (at the limit or at the
bar's open if that is better); stop-type orders wait for their trigger (``order_types``); legs
of complex orders wait for their entry and cancel each other (``order_classes``); ``opg``/``cls``
orders trade only in their auction and ``extended_hours`` limit orders also in extended hours
(``trading_phases``). Every change of an order's state is published as an Alpaca trade-update
event: ``accepted``, ``pending_new``, ``new``, ``partial_fill``, ``fill``, ``canceled``,
``expired``, ``replaced``, ``rejected``. The order rules live in ``order_rules``; replacing an
order in ``replacing``; the money in ``ledger``.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.faults import FaultDice
from tui_trader.sandbox.feed import MarketFeed
from tui_trader.sandbox.hours import MarketHours
from tui_trader.sandbox.intake import vet
from tui_trader.sandbox.ledger import Execution, Ledger
from tui_trader.sandbox.order_rules import OrderTicket
from tui_trader.sandbox.order_types import MARKET_ONCE_TRIGGERED, STOP_TYPES, trail_stop
from tui_trader.sandbox.pricing import auction_fill, fill_price, first_part, trigger
from tui_trader.sandbox.sim_order import OPEN_STATUSES, SimOrder, TradeEvent
from tui_trader.sandbox.trading_phases import in_extended_hours

__all__ = ["OPEN_STATUSES", "MatchingEngine", "SimOrder", "TradeEvent"]


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
        self.slippage = slippage_bps / 10_000.0
        self._ids = random.Random(f"ids:{seed}")
        self.lock = threading.RLock()
        """Guards the orders and the ledger; readers of ``ledger`` take it too."""
        self.orders_by_id: dict[str, SimOrder] = {}
        self.by_client: dict[str, SimOrder] = {}
        self.working: dict[str, SimOrder] = {}
        """Orders that may still fill (active stop legs included), so each bar works only them."""
        self.waiting_legs: dict[str, SimOrder] = {}
        """Legs ``held`` until their entry fills."""
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
            found = self.orders_by_id.get(order_id)
            if found is None:
                raise ApiError(404, 40410000, "order not found")
            return found.snapshot()

    def order_by_client_id(self, client_order_id: str) -> SimOrder:
        """The order with this ``client_order_id``, as REST shows it; 404 if unknown."""
        with self.lock:
            found = self.by_client.get(client_order_id)
            if found is None:
                raise ApiError(404, 40410000, "order not found")
            return found.snapshot()

    def orders(self) -> list[SimOrder]:
        """Every order, oldest first, as REST shows them."""
        with self.lock:
            return [o.snapshot() for o in self.orders_by_id.values()]

    def _committed(self, side: str, symbol: str | None, price: bool) -> float:
        """Quantity (or value, with ``price``) that working orders on ``side`` commit.

        A one-cancels-other pair commits once: its largest member counts.
        """
        groups: dict[str, float] = {}
        for order in self.working.values():
            t = order.ticket
            if t.side != side or (symbol is not None and t.symbol != symbol):
                continue
            amount = order.remaining
            if price:
                amount *= t.limit_price or order.stop_price or self.feed.quote(t.symbol).ask
            key = (order.parent or order).id
            groups[key] = max(groups.get(key, 0.0), amount)
        return sum(groups.values())

    def reserved(self) -> float:
        """Buying power held by open buy orders."""
        with self.lock:
            return self._committed("buy", None, price=True)

    def held_for_sells(self, symbol: str) -> float:
        """Shares of ``symbol`` promised to open sell orders."""
        with self.lock:
            return self._committed("sell", symbol, price=False)

    # -- commands ------------------------------------------------------------------------------

    def submit(self, body: Any, closing: bool = False) -> SimOrder:
        """Accept an order from a JSON body (or refuse it with an ``ApiError``); returns its ack.

        ``closing`` marks the orders the close-position endpoints place, which skip the
        buying-power and wash-trade checks. The returned snapshot is the order as the POST
        answers it; fills that follow at once are visible to later requests and on the stream.
        """
        with self.lock:
            now = self.now()
            checked = vet(self, body, now, closing)
            ticket, market = checked.ticket, checked.market
            order = self._register(ticket, now, "accepted")
            order.auction_at = checked.auction_at
            if ticket.type == "trailing_stop":
                order.hwm = market
                order.stop_price = trail_stop(
                    ticket.side, market, ticket.trail_price, ticket.trail_percent
                )
            for leg_ticket in checked.legs:
                leg = self._register(leg_ticket, now, "held", parent=order)
                order.legs.append(leg)
            tradable = self.tradable(ticket, now)
            ack = order.snapshot()
            ack.status = "pending_new" if tradable else "accepted"
            self.publish("accepted", order, now)
            order.split_fill = self.dice.roll("partial_rate")
            if self.dice.roll("stream_only_rate"):
                order.stale_view = copy.copy(order)
                self._stale.append(order)
            if self.dice.roll("reject_rate"):
                self._finish(order, "rejected", now)
            elif tradable:
                self._route(order, now)
        self._flush()
        return ack

    def tradable(self, ticket: OrderTicket, now: datetime) -> bool:
        """True if an order with this ticket may trade at ``now`` (regular or extended hours)."""
        if self.hours.is_open(now):
            return True
        return ticket.extended_hours and in_extended_hours(now, self.hours)

    def live_orders(self) -> list[SimOrder]:
        """Orders that may still trade: working ones and legs waiting for their entry."""
        return [*self.working.values(), *self.waiting_legs.values()]

    def cancel(self, order_id: str) -> None:
        """Cancel an open order; 404 if unknown, 422 if it can no longer be canceled."""
        with self.lock:
            order = self.orders_by_id.get(order_id)
            if order is None:
                raise ApiError(404, 40410000, "order not found")
            if order.status not in OPEN_STATUSES:
                raise ApiError(422, 42210000, f'order is already in "{order.status}" state')
            self._finish(order, "canceled", self.now())
        self._flush()

    def cancel_all(self) -> list[str]:
        """Cancel every open order (legs with their entry); returns their ids."""
        with self.lock:
            now = self.now()
            ids = []
            for order in sorted(self.live_orders(), key=lambda o: o.parent is not None):
                if order.status in OPEN_STATUSES:
                    self._finish(order, "canceled", now)
                    ids.append(order.id)
        self._flush()
        return ids

    def expire(self) -> None:
        """Hold the due auctions, then end the day orders whose session has closed."""
        with self.lock:
            now = self.now()
            for order in list(self.working.values()):
                if order.auction_at is not None and order.auction_at <= now:
                    self._auction(order, now)
            for order in sorted(self.live_orders(), key=lambda o: o.parent is not None):
                due = order.expires_at is not None and order.expires_at <= now
                if due and order.status in OPEN_STATUSES:
                    self._finish(order, "expired", now)
        self._flush()

    def on_bars(self) -> None:
        """A new bar arrived: catch REST up, work the open orders, mark the account to market."""
        self.expire()
        with self.lock:
            now = self.now()
            for order in self._stale:
                order.stale_view = None
            self._stale = []
            for order in list(self.working.values()):
                if order.id not in self.working or not self.tradable(order.ticket, now):
                    continue
                if order.status == "accepted":
                    self._route(order, now)
                else:
                    self.work(order, now, on_bar=True)
            self.ledger.mark(self.feed.market_time, self.feed.prices())
        self._flush()

    def replace(self, order_id: str, body: Any) -> SimOrder:
        """``PATCH /v2/orders/{id}``: see ``replacing.replace_order``."""
        from tui_trader.sandbox.replacing import replace_order

        with self.lock:
            new = replace_order(self, order_id, body)
        self._flush()
        return new

    # -- internals (lock held) -----------------------------------------------------------------

    def _register(
        self, ticket: OrderTicket, now: datetime, status: str, parent: SimOrder | None = None
    ) -> SimOrder:
        """Create and file an order (a held leg waits; anything else works)."""
        order = SimOrder(self.new_id(), ticket, status, now, now, parent=parent)
        order.stop_price = ticket.stop_price
        if ticket.time_in_force == "day":
            order.expires_at = self.hours.next_close(now)
        self.orders_by_id[order.id] = order
        self.by_client[ticket.client_order_id] = order
        if status == "held":
            self.waiting_legs[order.id] = order
        else:
            self.working[order.id] = order
        return order

    def _route(self, order: SimOrder, now: datetime) -> None:
        """Route an accepted order: ``pending_new``, then ``new``, then work it."""
        for status in ("pending_new", "new"):
            order.status = status
            order.updated_at = now
            self.publish(status, order, now)
        if order.stale_view is not None:
            order.stale_view = copy.copy(order)
            order.stale_view.stale_view = None
        if order.ticket.order_class == "oco":
            self._activate_legs(order, now, None)
        self.work(order, now, on_bar=False)

    def _activate_legs(self, order: SimOrder, now: datetime, qty: float | None) -> None:
        """Start working the held legs (a stop leg stays ``held`` until its trigger)."""
        for leg in order.legs:
            if self.waiting_legs.pop(leg.id, None) is None:
                continue
            if qty is not None:
                leg.ticket.qty = qty
            self.working[leg.id] = leg
            if leg.ticket.type not in STOP_TYPES:
                leg.status = "new"
                leg.updated_at = now
                self.publish("new", leg, now)
        for leg in list(order.legs):
            if leg.id in self.working and order.ticket.order_class != "oco":
                self.work(leg, now, on_bar=False)

    def work(self, order: SimOrder, now: datetime, on_bar: bool = False) -> None:
        """Fill what can be filled now; IOC/FOK leftovers are canceled."""
        ticket = order.ticket
        if order.auction_at is not None:
            return
        price = None
        if ticket.type in STOP_TYPES and not order.triggered:
            hit = trigger(self.feed, order, on_bar, self.slippage)
            if hit is None:
                return
            order.updated_at = now
            if order.status == "held":
                order.status = "new"
                self.publish("new", order, now)
            if ticket.type in MARKET_ONCE_TRIGGERED:
                price = hit
        if price is None:
            price = fill_price(self.feed, ticket, on_bar, self.slippage)
        if price is not None:
            if ticket.qty is None:  # notional: the quantity is set by the fill price
                ticket.qty = round(ticket.notional / price, 9)  # type: ignore[operator]
            qty = order.remaining
            if order.split_fill and order.filled_qty == 0 and ticket.time_in_force != "fok":
                qty = first_part(qty)
            self._fill(order, qty, price, now)
        if order.status in OPEN_STATUSES and ticket.time_in_force in ("ioc", "fok"):
            self._finish(order, "canceled", now)

    def _auction(self, order: SimOrder, now: datetime) -> None:
        """An ``opg``/``cls`` order meets its auction at the last price; the rest is canceled."""
        if order.status == "accepted":
            self._route(order, now)
        order.auction_at = None
        price = auction_fill(self.feed, order.ticket)
        if price is not None:
            self._fill(order, order.remaining, price, now)
        if order.status in OPEN_STATUSES:
            self._finish(order, "canceled", now)

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
            self.working.pop(order.id, None)
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
        self.publish(kind, order, now, execution, position_qty)
        for sibling in order.oco_siblings():
            if sibling.status not in OPEN_STATUSES:
                continue
            if done:
                self._finish(sibling, "canceled", now)
            else:
                sibling.ticket.qty = sibling.filled_qty + order.remaining
        if done and order.legs and ticket.order_class in ("bracket", "oto"):
            self._activate_legs(order, now, None)

    def _finish(self, order: SimOrder, status: str, now: datetime) -> None:
        """End an order as ``canceled``, ``expired`` or ``rejected``, with what depends on it.

        An entry that ends partly filled hands its legs the filled quantity (the position it
        opened stays protected); otherwise its waiting legs are canceled. Canceling or expiring
        one order of a one-cancels-other pair ends the other too.
        """
        order.status = status
        order.updated_at = now
        self.working.pop(order.id, None)
        self.waiting_legs.pop(order.id, None)
        if status == "canceled":
            order.canceled_at = now
        elif status == "expired":
            order.expired_at = now
        else:
            order.failed_at = now
        self.publish(status, order, now)
        if order.legs and order.ticket.order_class in ("bracket", "oto"):
            if order.filled_qty > 0 and any(leg.id in self.waiting_legs for leg in order.legs):
                self._activate_legs(order, now, order.filled_qty)
            for leg in order.legs:
                if leg.id in self.waiting_legs:
                    self._finish(leg, "canceled", now)
        for sibling in order.oco_siblings():
            if sibling.status in OPEN_STATUSES:
                self._finish(sibling, "canceled" if status == "rejected" else status, now)

    def publish(
        self,
        event: str,
        order: SimOrder,
        now: datetime,
        execution: Execution | None = None,
        position_qty: float | None = None,
    ) -> None:
        """Queue a trade update (handed to the listeners when the command is done)."""
        snapshot = order.snapshot(live=True)
        self._events.append(TradeEvent(event, snapshot, now, execution, position_qty))

    def _flush(self) -> None:
        """Hand queued trade updates to the listeners, in order (listeners must not block)."""
        with self.lock:
            events, self._events = self._events, []
            for event in events:
                for listener in list(self.listeners):
                    listener(event)
