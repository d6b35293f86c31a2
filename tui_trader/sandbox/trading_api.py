"""Trading API v2 routes of the sandbox: account, orders, positions, assets.

Each handler takes the running sandbox, the request and the path match, and returns an HTTP
status and a JSON-able body, or raises ``ApiError``. Clock, calendar, configurations,
activities and portfolio history live in ``account_api``.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import TYPE_CHECKING, Any

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.ledger import Holding
from tui_trader.sandbox.matching import SimOrder
from tui_trader.sandbox.position_lag import lagging
from tui_trader.sandbox.request import Reply, Request, query_time
from tui_trader.sandbox.shapes import account_json, asset_id, asset_json, order_json, position_json
from tui_trader.sandbox.sim_order import LISTED_OPEN

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox


def get_account(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/account``."""
    engine = sb.engine
    with engine.lock:
        totals = engine.ledger.totals(sb.feed.prices(), engine.reserved())
    outside = sb.outside.value()  # options and crypto held by hand: equity, long value
    body = account_json(
        totals.cash,
        totals.equity + outside,
        totals.long_market_value + outside,
        totals.short_market_value,
        totals.buying_power,
        totals.last_equity,
        engine.suspend_trade,
        engine.now().astimezone(NEW_YORK).date(),
    )
    return 200, body


def post_order(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``POST /v2/orders``: the engine decides; a lost acknowledgement is the server's job."""
    order = sb.engine.submit(req.json())
    sb.stale_reads.answered(order)
    return 200, order_json(order)


def get_orders(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/orders`` with ``status``, ``limit``, ``after``, ``until``, ``direction``..."""
    status = req.query.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise ApiError(422, 40010001, "invalid status")
    limit = req.int_param("limit", 50, 1, 500)
    direction = req.query.get("direction") or "desc"
    if direction not in ("asc", "desc"):  # the document's enum: never another order silently
        raise ApiError(422, 40010001, "invalid direction")
    after = query_time(req.query.get("after"), "after")
    until = query_time(req.query.get("until"), "until")
    symbols = {s for s in req.query.get("symbols", "").upper().split(",") if s}
    side = req.query.get("side")
    nested = req.query.get("nested", "").lower() == "true"
    chosen = []
    for order in sb.engine.orders():
        if nested and order.parent is not None:
            continue  # rolled up under its parent's legs
        is_open = order.status in LISTED_OPEN  # pending_replace too, as Alpaca lists it
        if (status == "open" and not is_open) or (status == "closed" and is_open):
            continue
        if (after and order.created_at <= after) or (until and order.created_at >= until):
            continue
        if (symbols and order.ticket.symbol not in symbols) or (side and order.ticket.side != side):
            continue
        chosen.append((order.created_at, order_json(order)))
    if not symbols and not side:  # a multi-leg order names neither: no such filter takes it
        chosen += sb.options.listed(status, after, until)
    chosen.sort(key=lambda o: o[0], reverse=direction == "desc")  # by submission time
    return 200, [body for _, body in chosen[:limit]]


def _order_id(text: str) -> str:
    """A path's order id, 422 when it is not a UUID (as Alpaca answers)."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ApiError(422, 40010001, "invalid order id") from None


def get_order(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/orders/{order_id}``."""
    if (options := sb.options.get(_order_id(m["id"]))) is not None:
        return 200, options
    return 200, order_json(sb.stale_reads.answer(sb.engine.order(_order_id(m["id"]))))


def get_order_by_client_id(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/orders:by_client_order_id?client_order_id=...``."""
    client_id = req.query.get("client_order_id")
    if not client_id:
        raise ApiError(422, 40010001, "client_order_id is required")
    if (options := sb.options.get(client_id)) is not None:
        return 200, options
    return 200, order_json(sb.stale_reads.answer(sb.engine.order_by_client_id(client_id)))


def cancel_order(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``DELETE /v2/orders/{order_id}``: 204 with no body; 422 "not cancelable" for a working
    order the ``cancel_refuse_rate`` fault leaves working."""
    order_id = _order_id(m["id"])
    if (cancelled := sb.options.cancel(order_id)) is not None:
        if not cancelled:
            raise ApiError(422, 42210000, "order is not cancelable")
        return 204, None
    if sb.engine.is_working(order_id) and sb.dice.roll("cancel_refuse_rate"):
        raise ApiError(422, 42210000, "order is not cancelable")
    sb.engine.cancel(order_id)
    return 204, None


def cancel_orders(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``DELETE /v2/orders``: 207 with one entry per order it tried: 200 for each cancelled,
    500 for each it could not cancel (the ``cancel_refuse_rate`` fault), which keeps working."""
    ids, refused = sb.engine.cancel_all(lambda: sb.dice.roll("cancel_refuse_rate"))
    ids = [*ids, *sb.options.cancel_all()]
    kept = [
        {"id": i, "status": 500, "body": {"code": 50010000, "message": "order is not cancelable"}}
        for i in refused
    ]
    return 207, [{"id": i, "status": 200} for i in ids] + kept


def patch_order(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``PATCH /v2/orders/{order_id}``: replace the order; answers the new one."""
    order = sb.engine.replace(_order_id(m["id"]), req.json())
    return 200, order_json(order)


def _symbol(sb: Sandbox, text: str) -> str:
    """A path's symbol or asset id as a known symbol ('' when unknown)."""
    wanted = text.upper()
    for symbol in (*sb.feed.symbols, *sb.config.untradable):
        if wanted == symbol or text == asset_id(symbol):
            return symbol
    return ""


def _holdings(sb: Sandbox) -> dict[str, Holding]:
    """The positions a read answers: as they are, or (the ``position_lag`` fault, rolled once
    a read) without the fills of orders still working (``sandbox.position_lag``)."""
    lag = sb.dice.roll("position_lag")
    today = sb.feed.market_time.astimezone(NEW_YORK).date()
    with sb.engine.lock:
        holdings = {s: copy.copy(h) for s, h in sb.engine.ledger.holdings.items()}
        if lag:
            holdings = lagging(holdings, list(sb.engine.working.values()), today)
    return holdings


def _position_body(sb: Sandbox, symbol: str, holdings: dict[str, Holding]) -> dict[str, Any] | None:
    """One position's JSON from ``holdings``, or None when flat."""
    held = holdings.get(symbol)
    if held is None:
        return None
    reserved = sb.engine.held_for_sells(symbol) if held.qty > 0 else 0.0
    today = sb.feed.market_time.astimezone(NEW_YORK).date()
    return position_json(
        symbol, held, sb.feed.last_price(symbol), sb.feed.lastday_price(symbol), today, reserved
    )


def get_positions(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/positions``."""
    holdings = _holdings(sb)
    listed = [body for s in sorted(holdings) if (body := _position_body(sb, s, holdings))]
    return 200, listed + sb.outside.listed()


def get_position(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/positions/{symbol_or_asset_id}``."""
    symbol = _symbol(sb, m["symbol"])
    body = _position_body(sb, symbol, _holdings(sb)) if symbol else None
    if body is None:
        raise ApiError(404, 40410000, "position does not exist")
    return 200, body


def _close(sb: Sandbox, symbol: str, qty: float | None, percentage: float | None) -> SimOrder:
    """Place the market order that closes (part of) a position."""
    with sb.engine.lock:
        held = sb.engine.ledger.holdings.get(symbol)
        if held is None:
            raise ApiError(404, 40410000, f"position not found: {symbol}")
        size = abs(held.qty)
        if percentage is not None:
            qty = round(size * percentage / 100.0, 9)
        qty = size if qty is None else qty
        available = size - (sb.engine.held_for_sells(symbol) if held.qty > 0 else 0.0)
        if qty > available + 1e-9 or qty <= 0:
            raise ApiError(
                403,
                40310000,
                f"insufficient qty available for order (requested: {qty:g}, "
                f"available: {available:g})",
            )
        body = {
            "symbol": symbol,
            "qty": str(qty),
            "side": "sell" if held.qty > 0 else "buy",
            "type": "market",
            "time_in_force": "day",
        }
        return sb.engine.submit(body, closing=True)


def close_position(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``DELETE /v2/positions/{symbol}`` with optional ``qty`` or ``percentage``."""
    symbol = _symbol(sb, m["symbol"])
    if not symbol:
        raise ApiError(404, 40410000, "position not found")
    qty = req.float_param("qty")
    percentage = req.float_param("percentage")
    if percentage is not None and not 0 < percentage <= 100:
        raise ApiError(422, 40010001, "percentage must be in (0, 100]")
    return 200, order_json(_close(sb, symbol, qty, percentage))


def close_positions(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``DELETE /v2/positions``: 207, one entry per position, after canceling if asked."""
    if req.query.get("cancel_orders", "").lower() == "true":
        sb.engine.cancel_all()
    out = []
    with sb.engine.lock:
        symbols = sorted(sb.engine.ledger.holdings)
    for symbol in symbols:
        try:
            order = _close(sb, symbol, None, None)
            out.append({"symbol": symbol, "status": 200, "body": order_json(order)})
        except ApiError as exc:
            out.append({"symbol": symbol, "status": exc.status, "body": {**exc.body()}})
    return 207, out


def get_assets(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/assets`` (optionally ``status=active|inactive``)."""
    status = req.query.get("status")
    assets = [asset_json(s, True) for s in sb.feed.symbols]
    assets += [asset_json(s, False) for s in sb.config.untradable]
    return 200, [a for a in assets if status in (None, a["status"])]


def get_asset(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/assets/{symbol_or_asset_id}``."""
    symbol = _symbol(sb, m["symbol"])
    if not symbol:
        raise ApiError(404, 40410000, "asset not found")
    return 200, asset_json(symbol, symbol in sb.feed.symbols)
