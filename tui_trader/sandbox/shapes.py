"""Alpaca's JSON shapes for the sandbox's objects: field names, string numbers, timestamps.

Alpaca sends money and quantities as strings (``"qty": "2"``) and times as RFC 3339 UTC with
fractional seconds; the trading API's objects are rendered here and nowhere else.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from tui_trader.sandbox.ledger import Execution, Holding
from tui_trader.sandbox.sim_order import SimOrder, TradeEvent

ACCOUNT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "tui-trader-sandbox:account"))
ACCOUNT_NUMBER = "PA3SANDBOX01"
ACCOUNT_CREATED = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
_EXCHANGES = {"SPY": "ARCA", "IWM": "ARCA", "DIA": "ARCA", "QQQ": "NASDAQ"}


def iso(stamp: datetime | None) -> str | None:
    """``2024-01-02T14:30:00.123456Z`` (None stays None)."""
    if stamp is None:
        return None
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def num(value: float | None) -> str | None:
    """A number as Alpaca's decimal string, without trailing zeros (None stays None)."""
    if value is None:
        return None
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def money(value: float) -> str:
    """A dollar amount rounded to the cent, as Alpaca's decimal string."""
    return num(round(value, 2)) or "0"


def asset_id(symbol: str) -> str:
    """A stable asset id for ``symbol``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"tui-trader-sandbox:asset:{symbol}"))


def exchange(symbol: str) -> str:
    """The listing exchange the sandbox reports for ``symbol``."""
    return _EXCHANGES.get(symbol, "NASDAQ")


def asset_json(symbol: str, tradable: bool) -> dict[str, Any]:
    """An asset (``GET /v2/assets/{symbol}``)."""
    return {
        "id": asset_id(symbol),
        "class": "us_equity",
        "exchange": exchange(symbol),
        "symbol": symbol,
        "name": f"{symbol} (sandbox)",
        "status": "active" if tradable else "inactive",
        "tradable": tradable,
        "marginable": tradable,
        "shortable": tradable,
        "easy_to_borrow": tradable,
        "fractionable": tradable,
        "maintenance_margin_requirement": 30,
        "margin_requirement_long": "30",
        "margin_requirement_short": "30",
        "attributes": [],
    }


def order_json(order: SimOrder) -> dict[str, Any]:
    """An order (``POST/GET /v2/orders``)."""
    t = order.ticket
    return {
        "id": order.id,
        "client_order_id": t.client_order_id,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "submitted_at": iso(order.created_at),
        "filled_at": iso(order.filled_at),
        "expired_at": iso(order.expired_at),
        "canceled_at": iso(order.canceled_at),
        "failed_at": iso(order.failed_at),
        "replaced_at": iso(order.replaced_at),
        "replaced_by": order.replaced_by,
        "replaces": order.replaces,
        "asset_id": asset_id(t.symbol),
        "symbol": t.symbol,
        "asset_class": "us_equity",
        "notional": num(t.notional),
        "qty": num(t.qty) if t.notional is None or order.filled_qty else None,
        "filled_qty": num(order.filled_qty),
        "filled_avg_price": num(order.filled_avg_price),
        "order_class": t.order_class,
        "order_type": t.type,
        "type": t.type,
        "side": t.side,
        "position_intent": _intent(t.side),
        "time_in_force": t.time_in_force,
        "limit_price": num(t.limit_price),
        "stop_price": num(order.stop_price),
        "status": order.status,
        "extended_hours": t.extended_hours,
        "legs": [order_json(leg) for leg in order.legs] or None,
        "trail_percent": num(t.trail_percent),
        "trail_price": num(t.trail_price),
        "hwm": num(order.hwm),
        "subtag": None,
        "source": None,
        "expires_at": iso(order.expires_at),
    }


def _intent(side: str) -> str:
    """Alpaca's position intent for a simple order (it cannot know open from close here)."""
    return "buy_to_open" if side == "buy" else "sell_to_close"


def position_json(
    symbol: str, held: Holding, price: float, lastday: float, today: date, reserved: float
) -> dict[str, Any]:
    """A position (``GET /v2/positions``) valued at ``price``."""
    qty = held.qty
    market_value = qty * price
    cost_basis = qty * held.avg_entry_price
    unrealized = market_value - cost_basis
    reference = lastday if held.opened_day < today else held.avg_entry_price
    intraday = qty * (price - reference)
    intraday_basis = abs(qty * reference)
    return {
        "asset_id": asset_id(symbol),
        "symbol": symbol,
        "exchange": exchange(symbol),
        "asset_class": "us_equity",
        "asset_marginable": True,
        "qty": num(qty),
        "qty_available": num(qty - reserved if qty > 0 else qty + reserved),
        "avg_entry_price": num(round(held.avg_entry_price, 4)),
        "side": "long" if qty > 0 else "short",
        "market_value": money(market_value),
        "cost_basis": money(cost_basis),
        "unrealized_pl": money(unrealized),
        "unrealized_plpc": num(round(unrealized / abs(cost_basis), 6) if cost_basis else 0.0),
        "unrealized_intraday_pl": money(intraday),
        "unrealized_intraday_plpc": num(
            round(intraday / intraday_basis, 6) if intraday_basis else 0.0
        ),
        "current_price": num(price),
        "lastday_price": num(lastday),
        "change_today": num(round((price - lastday) / lastday, 6) if lastday else 0.0),
    }


def account_json(
    cash: float,
    equity: float,
    long_mv: float,
    short_mv: float,
    buying_power: float,
    last_equity: float,
    suspended: bool,
    asof: date,
) -> dict[str, Any]:
    """The account (``GET /v2/account``); no pattern-day-trader fields (removed by Alpaca)."""
    return {
        "id": ACCOUNT_ID,
        "admin_configurations": {},
        "user_configurations": None,
        "account_number": ACCOUNT_NUMBER,
        "status": "ACTIVE",
        "crypto_status": "INACTIVE",
        "options_approved_level": 0,
        "options_trading_level": 0,
        "currency": "USD",
        "buying_power": money(buying_power),
        "regt_buying_power": money(buying_power),
        "daytrading_buying_power": "0",
        "effective_buying_power": money(buying_power),
        "non_marginable_buying_power": money(buying_power),
        "options_buying_power": money(buying_power),
        "bod_dtbp": "0",
        "cash": money(cash),
        "accrued_fees": "0",
        "portfolio_value": money(equity),
        "trading_blocked": False,
        "transfers_blocked": False,
        "account_blocked": False,
        "created_at": iso(ACCOUNT_CREATED),
        "trade_suspended_by_user": suspended,
        "multiplier": "1",
        "shorting_enabled": True,
        "equity": money(equity),
        "last_equity": money(last_equity),
        "long_market_value": money(long_mv),
        "short_market_value": money(short_mv),
        "position_market_value": money(long_mv - short_mv),
        "initial_margin": money(long_mv - short_mv),
        "maintenance_margin": money(0.3 * (long_mv - short_mv)),
        "last_maintenance_margin": "0",
        "sma": "0",
        "balance_asof": asof.isoformat(),
        "crypto_tier": 0,
        "intraday_adjustments": "0",
        "pending_reg_taf_fees": "0",
    }


def activity_json(execution: Execution) -> dict[str, Any]:
    """A fill as an account activity (``GET /v2/account/activities``)."""
    return {
        "id": execution.id,
        "account_id": ACCOUNT_ID,
        "activity_type": "FILL",
        "transaction_time": iso(execution.time),
        "type": execution.kind,
        "price": num(execution.price),
        "qty": num(execution.qty),
        "side": execution.side,
        "symbol": execution.symbol,
        "leaves_qty": num(execution.leaves_qty),
        "order_id": execution.order_id,
        "cum_qty": num(execution.cum_qty),
        "order_status": execution.order_status,
    }


def trade_update_json(event: TradeEvent) -> dict[str, Any]:
    """A ``trade_updates`` stream message for one event."""
    data: dict[str, Any] = {
        "event": event.event,
        "timestamp": iso(event.timestamp),
        "order": order_json(event.order),
    }
    if event.execution is not None:
        data["execution_id"] = event.execution.id.split("::")[-1]
        data["price"] = num(event.execution.price)
        data["qty"] = num(event.execution.qty)
        data["position_qty"] = num(event.position_qty)
    return {"stream": "trade_updates", "data": data}
