"""What makes an order acceptable: the body's fields, the asset, buying power and shares held.

Messages and codes follow Alpaca: 422 with code 40010001 for an order it cannot process, 403
with code 40310000 for insufficient buying power or shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_trader.sandbox.errors import ApiError

if TYPE_CHECKING:
    from tui_trader.sandbox.matching import MatchingEngine

TIME_IN_FORCE = ("day", "gtc", "ioc", "fok", "opg", "cls")
UNSUPPORTED_TYPES = ("stop", "stop_limit", "trailing_stop")
MAX_CLIENT_ORDER_ID = 128


@dataclass(slots=True)
class OrderTicket:
    """An order's request fields, checked and typed."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: float | None
    notional: float | None
    limit_price: float | None
    client_order_id: str
    extended_hours: bool = False


def _unprocessable(message: str) -> ApiError:
    """422 with Alpaca's generic "cannot process this order" code."""
    return ApiError(422, 40010001, message)


def _number(body: dict[str, Any], name: str) -> float | None:
    """A positive number field (string or number), None when absent."""
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _unprocessable(f"invalid {name}") from None
    if not value > 0 or value == float("inf"):
        raise _unprocessable(f"{name} must be > 0")
    return value


def parse_ticket(
    body: Any,
    new_id: Callable[[], str],
    symbols: tuple[str, ...],
    untradable: tuple[str, ...],
) -> OrderTicket:
    """Check a POST /v2/orders body and return its ticket, or raise the error Alpaca would."""
    if not isinstance(body, dict):
        raise ApiError(400, 40010000, "request body format is invalid")
    symbol = str(body.get("symbol") or "").upper()
    if not symbol:
        raise _unprocessable("symbol is required")
    if symbol in untradable:
        raise _unprocessable(f"asset {symbol} is not tradable")
    if symbol not in symbols:
        raise _unprocessable(f'asset "{symbol}" not found')
    side = body.get("side")
    if side not in ("buy", "sell"):
        raise _unprocessable("invalid side")
    kind = body.get("type") or body.get("order_type")
    if kind in UNSUPPORTED_TYPES:
        raise _unprocessable(f"order type {kind} is not supported by the sandbox")
    if kind not in ("market", "limit"):
        raise _unprocessable("invalid order type")
    tif = body.get("time_in_force")
    if tif not in TIME_IN_FORCE:
        raise _unprocessable("invalid time_in_force")
    if body.get("order_class") not in (None, "", "simple"):
        raise _unprocessable(f"order_class {body['order_class']} is not supported by the sandbox")
    qty, notional = _number(body, "qty"), _number(body, "notional")
    if qty is None and notional is None:
        raise _unprocessable("qty or notional is required")
    if qty is not None and notional is not None:
        raise _unprocessable("only one of qty or notional may be specified")
    fractional = notional is not None or (qty is not None and not float(qty).is_integer())
    if fractional and (kind != "market" or tif != "day"):
        raise _unprocessable("fractional orders must be DAY market orders")
    if notional is not None and notional < 1:
        raise _unprocessable("notional must be at least 1")
    limit_price = _number(body, "limit_price") if kind == "limit" else None
    if kind == "limit" and limit_price is None:
        raise _unprocessable("limit orders require limit_price")
    if limit_price is not None and limit_price >= 1 and round(limit_price, 2) != limit_price:
        raise _unprocessable("sub-penny increment does not fulfill minimum pricing criteria")
    extended = bool(body.get("extended_hours") or False)
    if extended and (kind != "limit" or tif != "day"):
        raise _unprocessable("extended hours order must be DAY limit orders")
    client_order_id = str(body.get("client_order_id") or new_id())
    if len(client_order_id) > MAX_CLIENT_ORDER_ID:
        raise _unprocessable("client_order_id must be no more than 128 characters")
    return OrderTicket(
        symbol, side, kind, tif, qty, notional, limit_price, client_order_id, extended
    )


def check_affordable(engine: MatchingEngine, ticket: OrderTicket) -> None:
    """Refuse (403, 40310000) an order the account cannot pay for or has not the shares for."""
    quote = engine.feed.quote(ticket.symbol)
    ref = ticket.limit_price or (quote.ask if ticket.side == "buy" else quote.bid)
    qty = ticket.qty if ticket.qty is not None else (ticket.notional or 0.0) / ref
    if not engine.fractional_trading and not float(qty).is_integer():
        raise _unprocessable("fractional trading is not enabled for this account")
    held = engine.ledger.holdings.get(ticket.symbol)
    held_qty = held.qty if held else 0.0
    totals = engine.ledger.totals(engine.feed.prices(), engine.reserved())
    if ticket.side == "buy":
        cost = max(qty - max(-held_qty, 0.0), 0.0) * ref
    elif held_qty > 0:
        available = held_qty - engine.held_for_sells(ticket.symbol)
        if qty > available + 1e-9:
            raise ApiError(
                403,
                40310000,
                f"insufficient qty available for order (requested: {qty:g}, "
                f"available: {max(available, 0.0):g})",
            )
        return
    else:
        if engine.no_shorting:
            raise ApiError(403, 40310000, "account is not allowed to short")
        if not float(qty).is_integer():
            raise _unprocessable("fractional orders cannot be sold short")
        cost = qty * ref
    if cost > totals.buying_power + 1e-6:
        raise ApiError(
            403,
            40310000,
            "insufficient buying power",
            buying_power=f"{totals.buying_power:.2f}",
            cost_basis=f"{cost:.2f}",
        )
