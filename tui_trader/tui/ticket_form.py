"""The order ticket's fields turned into a ``ManualOrder``, or the reason they cannot be.

No Textual here: the ticket screen collects text and choices, this decides what they mean, and
the session's risk gate decides what is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_trader.core.domain import OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder

STOP_NOTE = (
    "Stop orders are not offered: the desk's brokers take market and limit orders only for now."
)
"""What the ticket says about the order types it leaves out."""


@dataclass(frozen=True, slots=True)
class TicketResult:
    """The ticket as typed: an order, or the field at fault and why."""

    order: ManualOrder | None
    field: str = ""
    error: str = ""


def parse_ticket(values: dict[str, str], symbols: tuple[str, ...]) -> TicketResult:
    """Read the ticket's fields: symbol, side, amount and its unit (``shares`` or ``dollars``),
    order type, limit price, time in force."""
    symbol = values.get("symbol", "").strip().upper()
    if symbol not in symbols:
        return TicketResult(None, "symbol", f"choose one of {', '.join(symbols)}")
    try:
        amount = float(values.get("amount", "").replace(",", ""))
    except ValueError:
        return TicketResult(None, "amount", "a number, e.g. 10 (shares) or 2500 (dollars)")
    if not amount > 0 or amount == float("inf"):
        return TicketResult(None, "amount", "must be greater than zero")
    order_type = OrderType(values.get("type", "market"))
    limit = None
    if order_type is OrderType.LIMIT:
        try:
            limit = float(values.get("limit", "").replace(",", ""))
        except ValueError:
            return TicketResult(None, "limit", "a limit order needs a price")
        if not limit > 0:
            return TicketResult(None, "limit", "must be greater than zero")
    dollars = values.get("unit") == "dollars"
    order = ManualOrder(
        symbol=symbol,
        side=Side(values.get("side", "buy")),
        qty=None if dollars else amount,
        notional=amount if dollars else None,
        order_type=order_type,
        limit_price=limit,
        time_in_force=TimeInForce(values.get("tif", "day")),
    )
    problem = order.problem()
    if problem:
        return TicketResult(None, "amount", problem)
    return TicketResult(order)


def describe(order: ManualOrder) -> str:
    """``BUY 10 SPY market, day`` / ``SELL $2,500.00 of QQQ limit 401.5, gtc``."""
    size = f"{order.qty:g}" if order.qty is not None else f"${order.notional:,.2f} of"
    kind = str(order.order_type)
    if order.limit_price is not None:
        kind += f" {order.limit_price:g}"
    return f"{str(order.side).upper()} {size} {order.symbol} {kind}, {order.time_in_force}"
