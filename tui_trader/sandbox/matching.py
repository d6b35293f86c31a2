"""The sandbox's matching engine: orders in, fills out, priced by the sandbox's market.

Orders are checked by ``intake``, priced by ``pricing`` (stop triggers: ``order_types``), their
legs follow ``order_classes``, auctions and extended hours ``trading_phases``, replacing
``replacing``; the money is in ``ledger``; routing, fills and endings in ``execution``. Every
change of an order's state is published as an Alpaca trade-update event (``accepted``,
``pending_new``, ``new``, ``partial_fill``, ``fill``, ``canceled``, ``expired``, ``replaced``,
``rejected``).
"""

from __future__ import annotations

import copy
import dataclasses
import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.execution import OrderExecution
from tui_trader.sandbox.faults import FaultDice
from tui_trader.sandbox.feed import MarketFeed
from tui_trader.sandbox.hours import MarketHours
from tui_trader.sandbox.intake import vet
from tui_trader.sandbox.ledger import Execution, Ledger
from tui_trader.sandbox.order_rules import OrderTicket
from tui_trader.sandbox.order_types import trail_stop
from tui_trader.sandbox.pricing import fill_price
from tui_trader.sandbox.sim_order import OPEN_STATUSES, SimOrder, TradeEvent
from tui_trader.sandbox.trading_phases import in_extended_hours

__all__ = ["OPEN_STATUSES", "MatchingEngine", "SimOrder", "TradeEvent"]


class MatchingEngine(OrderExecution):
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
        self._slow_cancels: list[SimOrder] = []
        """Orders ``pending_cancel`` until the next bar (``slow_cancel_rate``)."""
        self._stale: list[SimOrder] = []
        """Orders whose REST view is stale until the next bar (``stream_only_rate``)."""
        self.racing: list[tuple[SimOrder, SimOrder, int, bool]] = []
        """Replaces the exchange decides at a later bar: (old order ``pending_replace``, new
        order ``pending_new``, bars left: ``race_bars``, whether the old one fills first:
        ``replace_fill_rate``; else it keeps working: ``replace_reject_rate``)."""
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
            reviewed = self.dice.roll("review_rate")  # routed at the next bar (``on_bars``)
            if reviewed:
                order.status = "pending_review"
            ack = order.snapshot()
            ack.status = "pending_new" if tradable and not reviewed else order.status
            self.publish("accepted", order, now)
            order.split_fill = self.dice.roll("partial_rate")
            if self.dice.roll("stream_only_rate"):
                order.stale_view = copy.copy(order)
                self._stale.append(order)
            if self.dice.roll("reject_rate"):
                self._finish(order, "rejected", now)
            elif tradable and not reviewed:
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

    def is_working(self, order_id: str) -> bool:
        """Whether the order exists and is open (a cancel would take it)."""
        with self.lock:
            order = self.orders_by_id.get(order_id)
            return order is not None and order.status in OPEN_STATUSES

    def cancel(self, order_id: str) -> None:
        """Cancel an open order; 404 if unknown, 422 if it can no longer be canceled."""
        with self.lock:
            order = self.orders_by_id.get(order_id)
            if order is None:
                raise ApiError(404, 40410000, "order not found")
            if order.status not in OPEN_STATUSES:
                raise ApiError(422, 42210000, f'order is already in "{order.status}" state')
            self._cancel_request(order, self.now())
        self._flush()

    def cancel_all(self, refuse: Callable[[], bool] | None = None) -> tuple[list[str], list[str]]:
        """Cancel every open order (legs with their entry); the ids cancelled, and those of
        the orders ``refuse`` said to leave working (the ``cancel_refuse_rate`` fault: Alpaca's
        "no longer cancelable"), their legs with them, and of those being replaced (Alpaca
        refuses to cancel an order ``pending_replace``)."""
        with self.lock:
            now = self.now()
            ids: list[str] = []
            refused: list[str] = []
            for order in sorted(self.live_orders(), key=lambda o: o.parent is not None):
                if order.status == "pending_replace" and order.parent is None:
                    refused.append(order.id)  # it may still fill: not silently passed over
                    continue
                if order.status not in OPEN_STATUSES:
                    continue
                if order.parent is not None and order.parent.id in refused:
                    continue
                if order.parent is None and refuse is not None and refuse():
                    refused.append(order.id)
                    continue
                self._cancel_request(order, now)
                ids.append(order.id)
        self._flush()
        return ids, refused

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
        from tui_trader.sandbox.replacing import settle_races

        self.expire()
        with self.lock:
            now = self.now()
            settle_races(self, now)
            self._slow_cancels_done(now)
            for order in self._stale:
                order.stale_view = None
            self._stale = []
            for order in list(self.working.values()):
                if order.id not in self.working or not self.tradable(order.ticket, now):
                    continue
                if order.status in ("accepted", "pending_review"):
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

    def _cancel_request(self, order: SimOrder, now: datetime) -> None:
        """A cancel the user asked for: ``pending_cancel``, then ``canceled`` (at the next bar
        when the ``slow_cancel_rate`` fault holds it: ``_slow_cancels_done``)."""
        order.status = "pending_cancel"
        self.publish("pending_cancel", order, now)
        if order.parent is None and self.dice.roll("slow_cancel_rate"):
            self._slow_cancels.append(order)
            return
        self._finish(order, "canceled", now)

    def _slow_cancels_done(self, now: datetime) -> None:
        """End the cancels the ``slow_cancel_rate`` fault held ``pending_cancel``, before the
        bar's orders trade: cancelled (its legs and pair with it), or, at the
        ``slow_cancel_fill_rate``, filled first for what is left (the order won the race); or,
        at the ``slow_cancel_refuse_rate``, working again (``order_cancel_rejected``)."""
        held, self._slow_cancels = self._slow_cancels, []
        for order in held:
            if order.status != "pending_cancel":
                continue
            if self.dice.roll("slow_cancel_refuse_rate"):
                order.status = "partially_filled" if order.filled_qty else "new"
                order.updated_at = now
                self.publish("order_cancel_rejected", order, now)
                continue
            if self.dice.roll("slow_cancel_fill_rate"):
                market = dataclasses.replace(order.ticket, limit_price=None)
                price = order.ticket.limit_price or fill_price(
                    self.feed, market, False, self.slippage
                )
                if price is not None:
                    self._fill(order, order.remaining, price, now)
                    continue
            self._finish(order, "canceled", now)

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
