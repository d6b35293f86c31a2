"""How the sandbox's working orders trade: routing, filling, auctions, legs and endings.

``OrderExecution`` is the half of ``MatchingEngine`` (``sandbox/matching``) that moves an order
once it is filed: route it (``pending_new``, ``new``), fill it at the price ``pricing`` gives
(stop triggers first), hold the ``opg``/``cls`` auctions, start bracket/OTO legs when their entry
fills, and end orders (``canceled``, ``expired``, ``rejected``) with what depends on them
(legs, one-cancels-other siblings). Every step is booked in the ledger and published as an
Alpaca trade-update event. Callers hold the engine's lock. Accepting, cancelling and the queries
stay in ``sandbox/matching``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime

from tui_trader.sandbox.faults import FaultDice
from tui_trader.sandbox.feed import MarketFeed
from tui_trader.sandbox.ledger import Execution, Ledger
from tui_trader.sandbox.order_types import MARKET_ONCE_TRIGGERED, STOP_TYPES
from tui_trader.sandbox.pricing import auction_fill, fill_price, first_part, trigger
from tui_trader.sandbox.sim_order import OPEN_STATUSES, SimOrder


class OrderExecution:
    """Routing, fills and endings of the sandbox's orders; a mixin of ``MatchingEngine``.

    ``MatchingEngine`` sets the state below and provides ``new_id`` and ``publish``.
    """

    feed: MarketFeed
    dice: FaultDice
    ledger: Ledger
    slippage: float
    working: dict[str, SimOrder]
    waiting_legs: dict[str, SimOrder]
    new_id: Callable[[], str]
    publish: Callable[..., None]

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
        if order.rest_waits > 0 and on_bar:  # a split order's rest, not due yet
            order.rest_waits -= 1
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
                order.rest_waits = self.dice.settings.partial_bars - 1
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
