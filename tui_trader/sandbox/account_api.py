"""Trading API v2 routes about the account and the exchange: configurations, activities,
portfolio history, clock and calendar.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.cash_moves import CashMove, move_json, wanted
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.request import Reply, Request, query_time
from tui_trader.sandbox.shapes import activity_json

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

_CONFIG_CHOICES: dict[str, tuple[Any, ...]] = {
    "dtbp_check": ("both", "entry", "exit"),
    "trade_confirm_email": ("all", "none"),
    "max_margin_multiplier": ("1", "2", "4"),
}
_CONFIG_BOOLS = (
    "suspend_trade",
    "no_shorting",
    "fractional_trading",
    "ptp_no_exception_entry",
    "disable_overnight_trading",
)
_RETIRED = ("pdt_check",)
"""Settings Alpaca retired (the pattern-day-trader check, July 2026): accepted and ignored."""
_PERIOD_RE = re.compile(r"^(\d+)(D|W|M|A)$")
_PERIOD_DAYS = {"D": 1, "W": 7, "M": 30, "A": 365}
_HISTORY_TF = {"1Min": 1, "5Min": 5, "15Min": 15, "1H": 60, "1D": None}


def get_configurations(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/account/configurations`` (no ``pdt_check``: Alpaca removed it)."""
    return 200, dict(sb.account_config)


def patch_configurations(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``PATCH /v2/account/configurations``: change the named settings, answer all of them."""
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, 40010000, "request body format is invalid")
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if value is None or name in _RETIRED:
            continue  # alpaca-py sends every field, null ones and retired ones included
        if name in _CONFIG_BOOLS:
            if not isinstance(value, bool):
                raise ApiError(422, 40010001, f"{name} must be a boolean")
        elif name in _CONFIG_CHOICES:
            if str(value) not in _CONFIG_CHOICES[name]:
                raise ApiError(422, 40010001, f"invalid {name}")
            value = str(value)
        elif name == "max_options_trading_level":
            if value not in (0, 1, 2, 3):
                raise ApiError(422, 40010001, f"invalid {name}")
        else:
            raise ApiError(422, 40010001, f"unknown configuration {name}")
        changes[name] = value
    sb.account_config.update(changes)
    sb.engine.suspend_trade = bool(sb.account_config["suspend_trade"])
    sb.engine.no_shorting = bool(sb.account_config["no_shorting"])
    sb.engine.fractional_trading = bool(sb.account_config["fractional_trading"])
    return 200, dict(sb.account_config)


def get_activities(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/account/activities[/{type}]``: the account's fills and its cash moved in or
    out (``sandbox.cash_moves``), by time, paged by the last id seen."""
    kinds = {m["type"].upper()} if m["type"] else set()
    kinds |= {k.strip().upper() for k in req.query.get("activity_types", "").split(",") if k}
    after = query_time(req.query.get("after"), "after")
    until = query_time(req.query.get("until"), "until")
    on_day = req.query.get("date")
    page_size = req.int_param("page_size", 100, 1, 100)
    descending = req.query.get("direction", "desc") == "desc"
    with sb.engine.lock:
        fills = list(sb.engine.ledger.executions) if not kinds or "FILL" in kinds else []
        moves = [c for c in sb.engine.ledger.cash_moves if wanted(c.kind, kinds)]
    items: list[tuple[datetime, str, Any]] = [(e.time, e.id, e) for e in fills]
    items += [(c.time, c.id, c) for c in moves]
    items.sort(key=lambda item: item[0])  # stable: fills of one moment keep their order
    if descending:
        items.reverse()
    token = req.query.get("page_token")
    if token:
        ids = [i for _, i, _ in items]
        items = items[ids.index(token) + 1 :] if token in ids else []
    chosen = []
    for stamp, _, item in items:
        if (after and stamp <= after) or (until and stamp >= until):
            continue
        if on_day and stamp.astimezone(NEW_YORK).date().isoformat() != on_day[:10]:
            continue
        chosen.append(move_json(item) if isinstance(item, CashMove) else activity_json(item))
    return 200, chosen[:page_size]


def get_portfolio_history(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/account/portfolio/history``: the equity curve, one point per bucket."""
    period = req.query.get("period", "1M")
    timeframe = req.query.get("timeframe", "1D")
    match = _PERIOD_RE.match(period)
    if not match or timeframe not in _HISTORY_TF:
        raise ApiError(422, 40010001, "invalid period or timeframe")
    with sb.engine.lock:
        curve = list(sb.engine.ledger.equity_curve)
    end = query_time(req.query.get("end"), "end") or curve[-1][0]
    span = timedelta(days=int(match[1]) * _PERIOD_DAYS[match[2]])
    start = query_time(req.query.get("start"), "start") or end - span
    before = [eq for t, eq in curve if t < start]
    base = before[-1] if before else sb.engine.ledger.initial_cash
    minutes = _HISTORY_TF[timeframe]
    buckets: dict[Any, tuple[datetime, float]] = {}
    for stamp, equity in curve:
        if start <= stamp <= end:
            key = (
                stamp.astimezone(NEW_YORK).date()
                if minutes is None
                else int(stamp.timestamp()) // (60 * minutes)
            )
            buckets[key] = (stamp, equity)
    points = list(buckets.values())
    return 200, {
        "timestamp": [int(t.timestamp()) for t, _ in points],
        "equity": [round(eq, 2) for _, eq in points],
        "profit_loss": [round(eq - base, 2) for _, eq in points],
        "profit_loss_pct": [round((eq - base) / base, 6) if base else 0.0 for _, eq in points],
        "base_value": round(base, 2),
        "base_value_asof": start.astimezone(NEW_YORK).date().isoformat(),
        "timeframe": timeframe,
        "cashflow": {},
    }


def get_clock(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/clock``: the wall clock in New York time and the session state."""
    now = sb.engine.now()
    return 200, {
        "timestamp": now.astimezone(NEW_YORK).isoformat(),
        "is_open": sb.hours.is_open(now),
        "next_open": sb.hours.next_open(now).isoformat(),
        "next_close": sb.hours.next_close(now).isoformat(),
    }


def get_calendar(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/calendar?start=&end=``: sessions between two dates (a month by default)."""
    today = sb.engine.now().astimezone(NEW_YORK).date()
    try:
        start = date.fromisoformat(req.query.get("start", today.isoformat())[:10])
        default_end = (start + timedelta(days=30)).isoformat()
        end = date.fromisoformat(req.query.get("end", default_end)[:10])
    except ValueError:
        raise ApiError(400, 40010000, "invalid date format") from None
    out = []
    for session in sb.hours.sessions(start, end):
        close = session.close - timedelta(minutes=1) if sb.hours.mode == "24h" else session.close
        out.append(
            {
                "date": session.day.isoformat(),
                "open": session.open.strftime("%H:%M"),
                "close": close.strftime("%H:%M"),
                "session_open": "0400" if sb.hours.mode == "real" else "0000",
                "session_close": "2000" if sb.hours.mode == "real" else "2359",
                "settlement_date": (session.day + timedelta(days=1)).isoformat(),
            }
        )
    return 200, out
