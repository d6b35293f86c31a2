"""Market Data API v2 routes of the sandbox for the present: latest bar, quote and trade
(multi- and single-symbol paths) and snapshots.

A snapshot is Alpaca's bundle of the latest trade, latest quote, latest minute bar, today's
daily bar and the previous day's. A single-symbol path for a symbol the sandbox does not
simulate answers 404, as Alpaca answers for a symbol it has no data for.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from tui_trader.sandbox.data_api import bar_json, quote_json, symbols_param, trade_json
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.feed import Timeframe
from tui_trader.sandbox.request import Reply, Request

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

_DAY = Timeframe("day", 1)


def _one(sb: Sandbox, m: re.Match[str]) -> str:
    """The symbol of a single-symbol path (404 when the sandbox does not simulate it)."""
    symbol = m.group("symbol").upper()
    if symbol not in sb.feed.symbols:
        raise ApiError(404, 40410000, f"no data found for {symbol}")
    return symbol


def latest_bar(sb: Sandbox, symbol: str) -> dict[str, Any]:
    """The latest completed bar."""
    return bar_json(sb.feed.latest_bar(symbol))


def latest_quote(sb: Sandbox, symbol: str) -> dict[str, Any]:
    """The current quote."""
    return quote_json(sb.feed.quote(symbol))


def latest_trade(sb: Sandbox, symbol: str) -> dict[str, Any]:
    """The last close as a trade, at the market's present."""
    return trade_json(sb.feed.latest_bar(symbol), sb.feed.market_time)


def snapshot(sb: Sandbox, symbol: str) -> dict[str, Any]:
    """Latest trade, quote and bar, today's daily bar and the day before's."""
    now = sb.feed.market_time
    days = sb.feed.bars(symbol, _DAY, now - timedelta(days=7), now)
    out = {
        "latestTrade": latest_trade(sb, symbol),
        "latestQuote": latest_quote(sb, symbol),
        "minuteBar": latest_bar(sb, symbol),
        "dailyBar": bar_json(days[-1]),
    }
    if len(days) > 1:
        out["prevDailyBar"] = bar_json(days[-2])
    return out


def get_latest_bars(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/bars/latest``."""
    return 200, {"bars": {s: latest_bar(sb, s) for s in symbols_param(sb, req)}}


def get_latest_quotes(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/quotes/latest``."""
    return 200, {"quotes": {s: latest_quote(sb, s) for s in symbols_param(sb, req)}}


def get_latest_trades(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/trades/latest``: the last close as a 100-share IEX trade."""
    return 200, {"trades": {s: latest_trade(sb, s) for s in symbols_param(sb, req)}}


def get_snapshots(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/snapshots``: symbol -> snapshot."""
    return 200, {s: snapshot(sb, s) for s in symbols_param(sb, req)}


def get_symbol_latest_bar(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/{symbol}/bars/latest``."""
    symbol = _one(sb, m)
    return 200, {"symbol": symbol, "bar": latest_bar(sb, symbol)}


def get_symbol_latest_quote(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/{symbol}/quotes/latest``."""
    symbol = _one(sb, m)
    return 200, {"symbol": symbol, "quote": latest_quote(sb, symbol)}


def get_symbol_latest_trade(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/{symbol}/trades/latest``."""
    symbol = _one(sb, m)
    return 200, {"symbol": symbol, "trade": latest_trade(sb, symbol)}


def get_symbol_snapshot(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/{symbol}/snapshot``."""
    symbol = _one(sb, m)
    return 200, {"symbol": symbol, **snapshot(sb, symbol)}
