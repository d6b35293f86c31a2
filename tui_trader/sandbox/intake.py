"""An order request checked against every rule before the engine files it.

The order of the checks is Alpaca's: the body's fields, the order class, a reused
``client_order_id``, prices against the market (legs, stops), the auction cut-offs, then money
(buying power, shares) and wash trades. Any failure raises the ``ApiError`` Alpaca would answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.order_classes import check_class_prices, leg_tickets, parse_class
from tui_trader.sandbox.order_rules import OrderTicket, check_affordable, check_wash, parse_ticket
from tui_trader.sandbox.order_types import check_stop_side
from tui_trader.sandbox.trading_phases import auction_time

if TYPE_CHECKING:
    from tui_trader.sandbox.matching import MatchingEngine


@dataclass(frozen=True, slots=True)
class Intake:
    """A checked order: its ticket, its legs' tickets, its auction (if any), the market price."""

    ticket: OrderTicket
    legs: list[OrderTicket]
    auction_at: datetime | None
    market: float


def vet(engine: MatchingEngine, body: Any, now: datetime, closing: bool) -> Intake:
    """Check a POST /v2/orders body (the engine's lock held); ``closing`` skips money checks."""
    if engine.suspend_trade:
        raise ApiError(403, 40310000, "new orders are rejected by user request")
    ticket = parse_ticket(body, engine.new_id, engine.feed.symbols, engine.untradable)
    parse_class(body, ticket)
    if ticket.client_order_id in engine.by_client:
        raise ApiError(422, 40010001, "client_order_id must be unique")
    market = engine.feed.last_price(ticket.symbol)
    check_class_prices(ticket, market)
    if ticket.type in ("stop", "stop_limit"):
        check_stop_side(ticket.side, ticket.stop_price or 0.0, market)
    auction_at = None
    if ticket.time_in_force in ("opg", "cls"):
        auction_at = auction_time(ticket.time_in_force, now, engine.hours)
    legs = leg_tickets(ticket, engine.new_id) if ticket.order_class else []
    if not closing:
        check_affordable(engine, ticket)
        for checked in [ticket, *(legs if ticket.order_class == "oco" else [])]:
            check_wash(checked, engine.live_orders())
    return Intake(ticket, legs, auction_at, market)
