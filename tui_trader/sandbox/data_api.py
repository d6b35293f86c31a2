"""Market Data API v2 routes of the sandbox: historical bars, trades and quotes (multi- and
single-symbol paths, paged), as Alpaca shapes them.

Trades and quotes are derived from the bars at the feed's interval: one 100-share trade at each
bar's close, one quote around it, in the middle of the bar. Symbols the sandbox does not
simulate are simply absent from multi-symbol answers, as Alpaca leaves out symbols it has no
data for; a single-symbol path answers an empty list for them. The latest values and snapshots
are in ``data_latest``.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.errors import ApiError
from tui_trader.sandbox.feed import (
    Quote,
    Timeframe,
    TimeframeNotSupported,
    parse_timeframe,
    trade_count,
    vwap,
)
from tui_trader.sandbox.request import RawJson, Reply, Request

if TYPE_CHECKING:
    from tui_trader.sandbox.app import Sandbox

TRADE_SIZE = 100
"""Shares in each synthetic trade."""


def rfc3339(stamp: datetime) -> str:
    """``2024-01-03T14:30:00Z``, the market data API's time format."""
    return _rfc3339_second(int(stamp.timestamp()))


@functools.lru_cache(maxsize=1 << 17)
def _rfc3339_second(epoch: int) -> str:
    """The text of a whole UTC second, cached: every symbol's bars share their stamps, and a
    10,000-bar page would otherwise spend a third of its time formatting them."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None).isoformat() + "Z"


def bar_json(bar: Bar) -> dict[str, Any]:
    """One bar in Alpaca's short keys, with ``n`` and ``vw`` (alpaca-py needs both); the volume
    is a whole number, as Alpaca's int64 (prices come rounded from the feed)."""
    return {
        "t": rfc3339(bar.timestamp),
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": int(bar.volume),
        "n": trade_count(bar),
        "vw": vwap(bar),
    }


@functools.lru_cache(maxsize=1 << 18)
def bar_text(bar: Bar) -> str:
    """``bar_json`` encoded, cached by bar (bars never change): a 10,000-bar page is mostly
    joined, not encoded, so a desk's warm-up of several pages stays well under a second."""
    return json.dumps(bar_json(bar))


def _bars_body(grouped: dict[str, list[str]], token: str | None) -> RawJson:
    """``{"bars": {symbol: [...]}, "next_page_token": ...}`` from encoded bars."""
    inner = ",".join(f"{json.dumps(s)}:[{','.join(bars)}]" for s, bars in grouped.items())
    return RawJson(f'{{"bars":{{{inner}}},"next_page_token":{json.dumps(token)}}}')


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


def trade_json(bar: Bar, stamp: datetime) -> dict[str, Any]:
    """The synthetic trade of a bar: ``TRADE_SIZE`` shares at its close, at ``stamp``."""
    return {
        "t": rfc3339(stamp),
        "x": "V",
        "p": bar.close,
        "s": TRADE_SIZE,
        "c": ["@"],
        "i": int(stamp.timestamp()),
        "z": "B",
    }


def symbols_param(sb: Sandbox, req: Request) -> list[str]:
    """The requested symbols the sandbox knows (400 when none were asked for)."""
    asked = [s.strip().upper() for s in req.query.get("symbols", "").split(",") if s.strip()]
    if not asked:
        raise ApiError(400, 40010001, "missing symbols")
    return [s for s in asked if s in sb.feed.symbols]


def _path_symbol(sb: Sandbox, m: re.Match[str]) -> list[str]:
    """The symbol of a single-symbol path, if the sandbox knows it."""
    symbol = m.group("symbol").upper()
    return [symbol] if symbol in sb.feed.symbols else []


def _when(text: str | None, name: str) -> datetime | None:
    """A start/end parameter: RFC 3339 or a date (400 when it does not parse)."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, 40010001, f"invalid {name}") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _window(sb: Sandbox, req: Request) -> tuple[datetime, datetime | None]:
    """``start`` (default: the market's New York day began) and ``end`` (default: open)."""
    market_day = sb.feed.market_time.astimezone(NEW_YORK).date()
    default_start = datetime(market_day.year, market_day.month, market_day.day, tzinfo=NEW_YORK)
    start = _when(req.query.get("start"), "start") or default_start
    end = _when(req.query.get("end"), "end")
    if end is not None and end < start:
        raise ApiError(422, 42210000, "end should not be before start")
    return start, end


def _offset(token: str | None) -> int:
    """The row offset a page token stands for (400 for a token the sandbox did not issue)."""
    if not token:
        return 0
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        raise ApiError(400, 40010001, "invalid page token") from None
    if offset < 0:
        raise ApiError(400, 40010001, "invalid page token")
    return offset


def _paged(
    sb: Sandbox,
    req: Request,
    symbols: list[str],
    series: Callable[[str, datetime, datetime | None], list[Any]],
    shape: Callable[[Any], Any],
) -> tuple[dict[str, list[Any]], str | None]:
    """Rows of every symbol (by symbol, then time; ``sort=desc`` reverses time), one page of
    ``limit`` of them shaped as JSON (only the page: it keeps big requests quick), grouped by
    symbol, and the next page's token (None on the last)."""
    start, end = _window(sb, req)
    limit = req.int_param("limit", 1000, 1, 10_000)
    sort = req.query.get("sort", "asc")
    if sort not in ("asc", "desc"):
        raise ApiError(400, 40010001, "sort must be asc or desc")
    rows: list[tuple[str, Any]] = []
    for symbol in sorted(set(symbols)):
        items = series(symbol, start, end)
        if sort == "desc":
            items.reverse()
        rows.extend((symbol, item) for item in items)
    offset = _offset(req.query.get("page_token"))
    grouped: dict[str, list[Any]] = {}
    for symbol, item in rows[offset : offset + limit]:
        grouped.setdefault(symbol, []).append(shape(item))
    more = offset + limit < len(rows)
    token = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return grouped, token


def _timeframe(req: Request) -> Timeframe:
    """The ``timeframe`` parameter (422 with Alpaca's message when Alpaca has no such one)."""
    try:
        return parse_timeframe(req.query.get("timeframe", ""))
    except TimeframeNotSupported as exc:
        raise ApiError(422, 42210000, str(exc)) from None


def _bar_series(sb: Sandbox, timeframe: Timeframe) -> Callable[..., list[Bar]]:
    """The bars of a symbol between two times."""
    return lambda symbol, start, end: sb.feed.bars(symbol, timeframe, start, end)


def _tick_bars(sb: Sandbox, symbol: str, start: datetime, end: datetime | None) -> list[Bar]:
    """The feed-interval bars whose synthetic tick (mid-bar) lies in ``[start, end]``."""
    half = sb.feed.step / 2
    bars = sb.feed.bars(symbol, Timeframe("min", 0), start - half, end and end - half)
    return [b for b in bars if b.timestamp + half >= start]


def _trade_shape(sb: Sandbox) -> Callable[[Bar], dict[str, Any]]:
    """A bar's synthetic trade (mid-bar) as JSON."""
    half = sb.feed.step / 2
    return lambda bar: trade_json(bar, bar.timestamp + half)


def _quote_shape(sb: Sandbox) -> Callable[[Bar], dict[str, Any]]:
    """A bar's synthetic quote (mid-bar) as JSON."""
    half = sb.feed.step / 2
    return lambda bar: quote_json(sb.feed.quote_at(bar, bar.timestamp + half))


def _ticks(sb: Sandbox) -> Callable[..., list[Bar]]:
    """The bars that carry a symbol's ticks between two times."""
    return lambda symbol, start, end: _tick_bars(sb, symbol, start, end)


def get_bars(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/bars``: bars of several symbols, ordered by symbol then time, paged."""
    series = _bar_series(sb, _timeframe(req))
    grouped, token = _paged(sb, req, symbols_param(sb, req), series, bar_text)
    return 200, _bars_body(grouped, token)


def get_symbol_bars(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/{symbol}/bars``."""
    series = _bar_series(sb, _timeframe(req))
    grouped, token = _paged(sb, req, _path_symbol(sb, m), series, bar_text)
    symbol = m.group("symbol").upper()
    bars = ",".join(grouped.get(symbol, []))
    return 200, RawJson(
        f'{{"bars":[{bars}],"symbol":{json.dumps(symbol)},"next_page_token":{json.dumps(token)}}}'
    )


def get_trades(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/trades``: historical trades of several symbols, paged."""
    grouped, token = _paged(sb, req, symbols_param(sb, req), _ticks(sb), _trade_shape(sb))
    return 200, {"trades": grouped, "next_page_token": token}


def get_symbol_trades(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/{symbol}/trades``."""
    grouped, token = _paged(sb, req, _path_symbol(sb, m), _ticks(sb), _trade_shape(sb))
    symbol = m.group("symbol").upper()
    return 200, {"trades": grouped.get(symbol, []), "symbol": symbol, "next_page_token": token}


def get_quotes(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/quotes``: historical quotes of several symbols, paged."""
    grouped, token = _paged(sb, req, symbols_param(sb, req), _ticks(sb), _quote_shape(sb))
    return 200, {"quotes": grouped, "next_page_token": token}


def get_symbol_quotes(sb: Sandbox, req: Request, m: re.Match[str]) -> Reply:
    """``GET /v2/stocks/{symbol}/quotes``."""
    grouped, token = _paged(sb, req, _path_symbol(sb, m), _ticks(sb), _quote_shape(sb))
    symbol = m.group("symbol").upper()
    return 200, {"quotes": grouped.get(symbol, []), "symbol": symbol, "next_page_token": token}
