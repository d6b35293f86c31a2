"""Stop, stop-limit and trailing-stop orders: their fields, their checks and their triggers.

A stop order waits for the market to reach its ``stop_price`` (at or below it for a sell, at or
above it for a buy), then fills as a market order (``stop``, ``trailing_stop``) or works as a
limit order (``stop_limit``). A trailing stop's stop follows the market by ``trail_price``
dollars or ``trail_percent`` percent from its high-water mark ``hwm`` (the highest price seen for
a sell, the lowest for a buy) and never moves back. The sandbox triggers on its bars: a bar whose
low (sells) or high (buys) reaches the stop triggers it, and the fill is at the stop or at the
bar's open when the bar gapped through it.
"""

from __future__ import annotations

from typing import Any

from tui_trader.sandbox.errors import ApiError

STOP_TYPES = ("stop", "stop_limit", "trailing_stop")
ORDER_TYPES = ("market", "limit", *STOP_TYPES)
MARKET_ONCE_TRIGGERED = ("stop", "trailing_stop")


def unprocessable(message: str) -> ApiError:
    """422 with Alpaca's generic "cannot process this order" code."""
    return ApiError(422, 40010001, message)


def positive(body: dict[str, Any], name: str) -> float | None:
    """A positive number field (string or number), None when absent."""
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise unprocessable(f"invalid {name}") from None
    if not value > 0 or value == float("inf"):
        raise unprocessable(f"{name} must be > 0")
    return value


def check_increment(name: str, price: float | None) -> None:
    """Alpaca's minimum increments: a cent at $1 and above, a hundredth of a cent below."""
    if price is None:
        return
    places = 2 if price >= 1 else 4
    if round(price, places) != price:
        raise unprocessable(
            f"sub-penny increment does not fulfill minimum pricing criteria ({name})"
        )


def stop_fields(
    body: dict[str, Any], kind: str, tif: str
) -> tuple[float | None, float | None, float | None]:
    """``(stop_price, trail_price, trail_percent)`` of a request, checked for its type."""
    stop_price = positive(body, "stop_price")
    trail_price = positive(body, "trail_price")
    trail_percent = positive(body, "trail_percent")
    if kind in ("stop", "stop_limit"):
        if stop_price is None:
            raise unprocessable("stop_price is required for stop and stop_limit orders")
        if trail_price is not None or trail_percent is not None:
            raise unprocessable("trail_price and trail_percent are only for trailing_stop orders")
        check_increment("stop_price", stop_price)
    elif kind == "trailing_stop":
        if (trail_price is None) == (trail_percent is None):
            raise unprocessable(
                "trailing_stop orders require exactly one of trail_price or trail_percent"
            )
        if stop_price is not None:
            raise unprocessable("stop_price is not allowed for trailing_stop orders")
        if trail_percent is not None and trail_percent >= 100:
            raise unprocessable("trail_percent must be less than 100")
        check_increment("trail_price", trail_price)
        if tif not in ("day", "gtc"):
            raise unprocessable("trailing_stop orders must be DAY or GTC orders")
    else:
        if stop_price is not None and kind == "market":
            raise unprocessable("stop_price is only for stop and stop_limit orders")
        if trail_price is not None or trail_percent is not None:
            raise unprocessable("trail_price and trail_percent are only for trailing_stop orders")
        stop_price = None
    return stop_price, trail_price, trail_percent


def check_stop_side(side: str, stop_price: float, market: float) -> None:
    """A sell stop must sit below the market and a buy stop above it (422 otherwise)."""
    if side == "sell" and stop_price >= market:
        raise unprocessable(
            f"stop_price must be below the current price for a sell stop order "
            f"(stop_price: {stop_price:g}, current price: {market:g})"
        )
    if side == "buy" and stop_price <= market:
        raise unprocessable(
            f"stop_price must be above the current price for a buy stop order "
            f"(stop_price: {stop_price:g}, current price: {market:g})"
        )


def trail_stop(
    side: str, hwm: float, trail_price: float | None, trail_percent: float | None
) -> float:
    """The trailing stop's level for high-water mark ``hwm``."""
    if trail_price is not None:
        level = hwm - trail_price if side == "sell" else hwm + trail_price
    else:
        share = (trail_percent or 0.0) / 100.0
        level = hwm * (1 - share) if side == "sell" else hwm * (1 + share)
    return round(level, 2 if level >= 1 else 4)


def new_hwm(side: str, hwm: float, low: float, high: float) -> float:
    """The high-water mark after a bar: higher highs for a sell, lower lows for a buy."""
    return max(hwm, high) if side == "sell" else min(hwm, low)


def reached(side: str, stop_price: float, low: float, high: float) -> bool:
    """True if prices from ``low`` to ``high`` reach the stop."""
    return low <= stop_price if side == "sell" else high >= stop_price


def stop_fill_price(side: str, stop_price: float, open_: float, slippage: float) -> float:
    """Where a triggered stop fills on a bar: the stop, or the open if the bar gapped through it."""
    if side == "sell":
        return round(min(stop_price, open_) * (1 - slippage), 4)
    return round(max(stop_price, open_) * (1 + slippage), 4)
