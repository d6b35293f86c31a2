"""Market Data API v2 routes of the sandbox: historical bars with pages, latest bar/quote/trade.

Symbols the sandbox does not simulate are simply absent from the answer, as Alpaca leaves out
symbols it has no data for.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.feed import Quote, TimeframeNotSupported, parse_timeframe, trade_count, vwap
from tui_trader.sandbox.request import Reply, Request

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox


def rfc3339(stamp: datetime) -> str:
    """``2024-01-03T14:30:00Z``, the market data API's time format."""
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bar_json(bar: Bar) -> dict[str, Any]:
    """One bar in Alpaca's short keys, with ``n`` and ``vw`` (alpaca-py needs both)."""
    return {
        "t": rfc3339(bar.timestamp),
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": bar.volume,
        "n": trade_count(bar),
        "vw": vwap(bar),
    }


def quote_json(quote: Quote) -> dict[str, Any]:
    """One quote in Alpaca's short keys (IEX exchange code ``V``)."""
    return {
        "t": rfc3339(quote.timestamp),
        "ax": "V",
        "ap": quote.ask,
        "as": quote.ask_size,
        "bx": "V",
        "bp": quote.bid,
        "bs": quote.bid_size,
        "c": ["R"],
        "z": "B",
    }


def _symbols(sb: Sandbox, req: Request) -> list[str]:
    """The requested symbols the sandbox knows (400 when none were asked for)."""
    asked = [s.strip().upper() for s in req.query.get("symbols", "").split(",") if s.strip()]
    if not asked:
        raise ApiError(400, 40010001, "missing symbols")
    return [s for s in asked if s in sb.feed.symbols]


def _when(text: str | None, name: str) -> datetime | None:
    """A start/end parameter: RFC 3339 or a date (400 when it does not parse)."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, 40010001, f"invalid {name}") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def get_bars(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/bars``: bars of several symbols, ordered by symbol then time, paged."""
    symbols = _symbols(sb, req)
    try:
        minutes = parse_timeframe(req.query.get("timeframe", ""))
    except TimeframeNotSupported as exc:
        raise ApiError(422, 42210000, str(exc)) from None
    market_day = sb.feed.market_time.astimezone(NEW_YORK).date()
    default_start = datetime(market_day.year, market_day.month, market_day.day, tzinfo=NEW_YORK)
    start = _when(req.query.get("start"), "start") or default_start
    end = _when(req.query.get("end"), "end")
    limit = req.int_param("limit", 1000, 1, 10_000)
    descending = req.query.get("sort", "asc") == "desc"
    rows: list[tuple[str, Bar]] = []
    for symbol in sorted(symbols):
        bars = sb.feed.bars(symbol, minutes, start, end)
        if descending:
            bars.reverse()
        rows.extend((symbol, bar) for bar in bars)
    offset = _offset(req.query.get("page_token"))
    page = rows[offset : offset + limit]
    grouped: dict[str, list[dict[str, Any]]] = {}
    for symbol, bar in page:
        grouped.setdefault(symbol, []).append(bar_json(bar))
    more = offset + limit < len(rows)
    token = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return 200, {"bars": grouped, "next_page_token": token}


def _offset(token: str | None) -> int:
    """The row offset a page token stands for (400 for a token the sandbox did not issue)."""
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        raise ApiError(400, 40010001, "invalid page token") from None


def get_latest_bars(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/bars/latest``."""
    return 200, {"bars": {s: bar_json(sb.feed.latest_bar(s)) for s in _symbols(sb, req)}}


def get_latest_quotes(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/quotes/latest``."""
    return 200, {"quotes": {s: quote_json(sb.feed.quote(s)) for s in _symbols(sb, req)}}


def get_latest_trades(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/trades/latest``: the last close as a 100-share IEX trade."""
    out = {}
    for symbol in _symbols(sb, req):
        bar = sb.feed.latest_bar(symbol)
        out[symbol] = {
            "t": rfc3339(sb.feed.market_time),
            "x": "V",
            "p": bar.close,
            "s": 100,
            "c": ["@"],
            "i": int(bar.timestamp.timestamp()),
            "z": "B",
        }
    return 200, {"trades": out}
