"""``PATCH /v2/orders/{order_id}``: replace a working order by a new one, as Alpaca does.

The new order takes the old one's fields with the request's changes (``qty``, ``time_in_force``,
``limit_price``, ``stop_price``, ``trail``, ``client_order_id``) and ``replaces`` it; the old one
becomes ``replaced`` (event ``replaced``) with ``replaced_by``. Only a working order can be
replaced (``new``, ``partially_filled``, or a leg ``held`` for its trigger): anything else is 422,
like a notional order. The new order is for ``qty`` shares, by default what the old one had left;
it keeps a trailing stop's high-water mark and takes the old one's place among its legs.

Alpaca warns that a 200 does not mean the old order was replaced: if it fills before the new one
reaches the exchange, the new one is rejected. The ``replace_fill_rate`` fault rehearses that:
the PATCH answers the new order ``pending_new`` and the old one turns ``pending_replace`` (still
holding its shares); at the next bar (``settle_races``) the old one fills in full and the new one
is ``rejected``, each with its trade update.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.order_rules import MAX_CLIENT_ORDER_ID, check_affordable, check_wash
from tui_trader.sandbox.order_types import (
    check_increment,
    check_stop_side,
    positive,
    trail_stop,
    unprocessable,
)
from tui_trader.sandbox.pricing import fill_price
from tui_trader.sandbox.sim_order import SimOrder

if TYPE_CHECKING:
    from tui_trader.sandbox.matching import MatchingEngine

FIELDS = ("qty", "time_in_force", "limit_price", "stop_price", "trail", "client_order_id")


def _replaceable(engine: MatchingEngine, order_id: str) -> SimOrder:
    """The order to replace, or the error Alpaca answers (404 unknown, 422 not working)."""
    old = engine.orders_by_id.get(order_id)
    if old is None:
        raise ApiError(404, 40410000, "order not found")
    working = old.status in ("new", "partially_filled") or (
        old.status == "held" and old.id in engine.working
    )
    if not working:
        raise ApiError(422, 42210000, f'order is not replaceable in "{old.status}" state')
    if old.ticket.notional is not None:
        raise unprocessable("notional orders cannot be replaced")
    return old


def replace_order(engine: MatchingEngine, order_id: str, body: Any) -> SimOrder:
    """Replace an order (the engine's lock held); returns the new order as the PATCH answers."""
    old = _replaceable(engine, order_id)
    if not isinstance(body, dict):
        raise ApiError(400, 40010000, "request body format is invalid")
    if not any(body.get(name) not in (None, "") for name in FIELDS):
        raise unprocessable("nothing to replace: give qty, time_in_force, limit_price, ...")
    t = old.ticket
    qty = positive(body, "qty")
    if qty is not None and not qty.is_integer():
        raise unprocessable("qty must be a whole number of shares")
    tif = body.get("time_in_force") or t.time_in_force
    allowed = ("day", "gtc") if t.type == "trailing_stop" or t.order_class else None
    if tif not in (allowed or ("day", "gtc", "ioc", "fok")):
        raise unprocessable("invalid time_in_force")
    limit_price, stop_price, trail = (
        positive(body, n) for n in ("limit_price", "stop_price", "trail")
    )
    if limit_price is not None and t.type not in ("limit", "stop_limit"):
        raise unprocessable("limit_price can be replaced only on limit and stop_limit orders")
    if stop_price is not None and t.type not in ("stop", "stop_limit"):
        raise unprocessable("stop_price can be replaced only on stop and stop_limit orders")
    if trail is not None and t.type != "trailing_stop":
        raise unprocessable("trail can be replaced only on trailing_stop orders")
    check_increment("limit_price", limit_price)
    check_increment("stop_price", stop_price)
    client_order_id = str(body.get("client_order_id") or engine.new_id())
    if len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise unprocessable("client_order_id must be no more than 128 characters")
    if client_order_id in engine.by_client:
        raise unprocessable("client_order_id must be unique")
    percent = t.trail_percent is not None
    ticket = replace(
        t,
        qty=qty if qty is not None else old.remaining,
        time_in_force=tif,
        limit_price=limit_price if limit_price is not None else t.limit_price,
        stop_price=stop_price if stop_price is not None else t.stop_price,
        trail_price=trail if trail is not None and not percent else t.trail_price,
        trail_percent=trail if trail is not None and percent else t.trail_percent,
        client_order_id=client_order_id,
    )
    if ticket.type in ("stop", "stop_limit") and not old.triggered and stop_price is not None:
        check_stop_side(ticket.side, stop_price, engine.feed.last_price(ticket.symbol))
    _check_money(engine, old, ticket)
    if old.parent is None and not old.legs:
        if engine.dice.roll("replace_fill_rate"):
            return _race(engine, old, ticket, fills=True)
        if engine.dice.roll("replace_reject_rate"):
            return _race(engine, old, ticket, fills=False)
    return _swap(engine, old, ticket)


def _check_money(engine: MatchingEngine, old: SimOrder, ticket: Any) -> None:
    """Buying power, shares and wash trades for the new order, its own pair set aside."""
    root = old.parent or old
    group = {o.id for o in (root, *root.legs)}
    aside = {i: o for i in group if (o := engine.working.pop(i, None)) is not None}
    try:
        check_affordable(engine, ticket)
        check_wash(ticket, [o for o in engine.live_orders() if o.id not in group])
    finally:
        engine.working.update(aside)


def _swap(engine: MatchingEngine, old: SimOrder, ticket: Any) -> SimOrder:
    """Retire ``old`` as ``replaced`` and put the new order in its place; returns the new one."""
    now = engine.now()
    new = SimOrder(engine.new_id(), ticket, "held" if old.status == "held" else "new", now, now)
    new.replaces = old.id
    new.parent, new.legs = old.parent, list(old.legs)
    new.hwm, new.triggered, new.stop_price = old.hwm, old.triggered, ticket.stop_price
    if ticket.type == "trailing_stop" and old.hwm is not None:
        new.stop_price = trail_stop(ticket.side, old.hwm, ticket.trail_price, ticket.trail_percent)
    if ticket.time_in_force == "day":
        new.expires_at = engine.hours.next_close(now)
    old.status, old.replaced_at, old.replaced_by, old.updated_at = "replaced", now, new.id, now
    engine.working.pop(old.id, None)
    engine.publish("replaced", old, now)
    engine.orders_by_id[new.id] = new
    engine.by_client[ticket.client_order_id] = new
    engine.working[new.id] = new
    if new.parent is not None:
        new.parent.legs[new.parent.legs.index(old)] = new
    for leg in new.legs:
        leg.parent = new
        if leg.id in engine.waiting_legs:
            leg.ticket.qty = ticket.qty
    if new.status == "new":
        engine.publish("new", new, now)
    if engine.tradable(ticket, now):
        engine.work(new, now)
    return new.snapshot()


def _race(engine: MatchingEngine, old: SimOrder, ticket: Any, fills: bool) -> SimOrder:
    """The ``replace_fill_rate`` (``fills``) and ``replace_reject_rate`` faults: file the new
    order ``pending_new`` (not working yet) and leave the old one ``pending_replace`` until the
    next bar decides (``settle_races``); returns the new one as the PATCH answers it."""
    now = engine.now()
    new = SimOrder(engine.new_id(), ticket, "pending_new", now, now)
    new.replaces, new.stop_price = old.id, ticket.stop_price
    old.status, old.updated_at = "pending_replace", now
    engine.publish("pending_replace", old, now)
    engine.orders_by_id[new.id] = new
    engine.by_client[ticket.client_order_id] = new
    engine.racing.append((old, new, engine.dice.settings.race_bars, fills))
    engine.publish("pending_new", new, now)
    return new.snapshot()


def settle_races(engine: MatchingEngine, now: datetime) -> None:
    """The replaces ``_race`` held, lost by the new order, which is ``rejected`` (unless it was
    cancelled meanwhile): each old order fills in full (a limit at its limit, a stop at the
    market), or (``replace_reject_rate``) is ``new`` again, working as before the replace."""
    races, engine.racing = engine.racing, []
    for old, new, bars, fills in races:
        if bars > 1 and old.status == "pending_replace":  # the exchange has not answered
            engine.racing.append((old, new, bars - 1, fills))
            continue
        if old.status == "pending_replace" and not fills:
            old.status, old.updated_at = "new", now
            engine.publish("order_replace_rejected", old, now)
        elif old.status == "pending_replace":
            limit = old.ticket.limit_price
            market = replace(old.ticket, limit_price=None)
            price = limit or fill_price(engine.feed, market, False, engine.slippage)
            if price is not None:
                engine._fill(old, old.remaining, price, now)
        if new.status == "pending_new":
            engine._finish(new, "rejected", now)
