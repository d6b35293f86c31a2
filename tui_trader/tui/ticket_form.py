"""The order ticket's fields turned into a ``ManualOrder``, or the reason they cannot be.

No Textual here: the ticket screen collects text and choices, this decides what they mean, and
the session's risk gate decides what is sent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from tui_trader.cli.numbers import MAX_NUMBER
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.core.prices import exact_text
from tui_trader.engine.manual_orders import ManualOrder

_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?", re.ASCII)
"""A number with thousands commas: ``1,000`` or ``1,234.5``, commas every three digits."""
GROUPING = "commas only between thousands (1,000): '{}' could be read two ways"
"""Why ``1,5`` is refused: 1.5 to a European eye, and the ticket read it as 15."""

STOP_NOTE = "Stop: a sell stop below the price, a buy stop above it (shares only)."
"""What the ticket says about its stop orders."""


@dataclass(frozen=True, slots=True)
class TicketResult:
    """The ticket as typed: an order, or the field at fault and why."""

    order: ManualOrder | None
    field: str = ""
    error: str = ""


def parse_ticket(values: dict[str, str], symbols: tuple[str, ...]) -> TicketResult:
    """Read the ticket's fields: symbol, side, amount and its unit (``shares`` or ``dollars``),
    order type, limit price, time in force."""
    typed = values.get("symbol", "").strip()
    symbol = typed.upper() if typed.isascii() else ""  # 'ß'.upper() is 'SS': not what was typed
    if symbol not in symbols:
        return TicketResult(None, "symbol", f"choose one of {', '.join(symbols)}")
    typed_amount = values.get("amount", "").strip()
    if not typed_amount:  # the field's grey "e.g. 10" is no amount (undimmed, it read as one)
        return TicketResult(None, "amount", "nothing typed: how many shares (or dollars)?")
    text = _ungrouped(typed_amount)
    if text is None:
        return TicketResult(None, "amount", GROUPING.format(typed_amount))
    try:
        amount = float(text) if text.isascii() and "_" not in text else None
    except ValueError:
        amount = None
    if amount is None:  # "ten"; "５", "٥" and "1_000", which float() alone takes
        return TicketResult(None, "amount", "a number in ASCII digits, e.g. 10 (shares) or 2500")
    if not math.isfinite(amount):  # "nan", "1e400": not "must be greater than zero"
        return TicketResult(None, "amount", f"not a finite number: {values.get('amount')!r}")
    if not amount > 0:
        return TicketResult(None, "amount", "must be greater than zero")
    if amount > MAX_NUMBER:  # the command line's bound: 1e300 shares went to the risk gate
        return TicketResult(None, "amount", f"too large: at most {MAX_NUMBER:g}")
    order_type = OrderType(values.get("type", "market"))
    limit = stop = None
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        limit = _price(values.get("limit", ""))
        if limit is _MISGROUPED:
            return TicketResult(None, "limit", GROUPING.format(values["limit"].strip()))
        if limit is None:
            return TicketResult(
                None, "limit", f"a {order_type} order needs a positive price, at most 1e12"
            )
    if order_type.is_stop:
        stop = _price(values.get("stop", ""))
        if stop is _MISGROUPED:
            return TicketResult(None, "stop", GROUPING.format(values["stop"].strip()))
        if stop is None:
            return TicketResult(
                None, "stop", f"a {order_type} order needs a positive stop price, at most 1e12"
            )
    dollars = values.get("unit") == "dollars"
    order = ManualOrder(
        symbol=symbol,
        side=Side(values.get("side", "buy")),
        qty=None if dollars else amount,
        notional=amount if dollars else None,
        order_type=order_type,
        limit_price=limit,
        time_in_force=TimeInForce(values.get("tif", "day")),
        stop_price=stop,
    )
    problem = order.problem()
    if problem:
        return TicketResult(None, "amount", problem)
    return TicketResult(order)


_MISGROUPED = -1.0
"""``_price``'s answer for commas not between thousands (``1,5``)."""


def _ungrouped(text: str) -> str | None:
    """``text`` without its thousands commas, or ``None`` when a comma stands anywhere else.
    Every comma used to be dropped: ``1,5`` (one and a half to a European eye) was read as 15
    shares, ten times the order meant, and ``1,,0`` as 10."""
    if "," not in text:
        return text
    return text.replace(",", "") if _GROUPED.fullmatch(text) else None


def _price(text: str) -> float | None:
    """A positive price typed in ASCII digits, with or without thousands commas, at most a bar's
    highest price (``market.validate.MAX_PRICE``, 1e12); ``None`` if it is not one (a limit of
    1e308 was taken, and the cash it reserves is not a finite number), ``_MISGROUPED`` for
    commas not between thousands."""
    raw = _ungrouped(text.strip())
    if raw is None:
        return _MISGROUPED
    if not raw.isascii() or "_" in raw:
        return None
    try:
        price = float(raw)
    except ValueError:
        return None
    return price if 0 < price <= MAX_NUMBER else None


def describe(order: ManualOrder) -> str:
    """``BUY 10 SPY market, day`` / ``SELL 10 QQQ stop 395, gtc`` / ``SELL 10 QQQ stop_limit
    stop 395 limit 394, gtc`` (a plain stop read "stop stop 395"). Every number as the order
    sends it (``exact_text``): the LIVE and PAPER desks ask "Send this order?" in these words."""
    size = exact_text(order.qty) if order.qty is not None else f"${order.notional:,.2f} of"
    kind = str(order.order_type)
    if order.stop_price is not None:
        stop = exact_text(order.stop_price)
        kind = f"stop {stop}" if kind == "stop" else f"{kind} stop {stop}"
        if order.limit_price is not None:
            kind += " limit"
    if order.limit_price is not None:
        kind += f" {exact_text(order.limit_price)}"
    return f"{str(order.side).upper()} {size} {order.symbol} {kind}, {order.time_in_force}"
