"""One Yahoo Finance chart download through yfinance, under our deadline, as a polars table.

yfinance is imported here, lazily (it costs about 0.4 s and pulls in pandas). Its own caches are
moved into our cache directory, its logger is kept off the terminal, and its errors are sorted
into two kinds: ``YahooUnavailable`` (no connection, a timeout, a refusal, a garbled answer: the
caller may fall back to the cache) and ``YahooNoData`` (Yahoo answered and has no bars).

``base_url`` (or ``$TUI_TRADER_YAHOO_URL``) sends every request yfinance makes to another origin,
keeping the path: tests serve Yahoo's chart JSON from ``127.0.0.1``.
"""

from __future__ import annotations

import logging
import threading
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from tui_trader.core.timeframes import NEW_YORK, Interval
from tui_trader.market import MarketDataError
from tui_trader.market.cache import CACHE_COLUMNS, CACHE_SCHEMA, empty_bars
from tui_trader.market.deadline import DeadlineExceeded, call_with_deadline

YAHOO_URL_ENV = "TUI_TRADER_YAHOO_URL"
"""Environment variable naming a stand-in origin for Yahoo (``http://127.0.0.1:PORT``)."""

_setup_lock = threading.Lock()
_yf_cache_dir: Path | None = None


class YahooUnavailable(MarketDataError):
    """Yahoo could not be asked or did not answer properly: the cache may stand in."""


class YahooNoData(MarketDataError):
    """Yahoo answered, and has no bars for that symbol and range."""


def yahoo_interval(interval: Interval) -> str:
    """The name Yahoo gives an interval (``1h`` is ``60m`` on the wire)."""
    return "60m" if interval.minutes == 60 else interval.text


def fetch_chart(
    symbol: str,
    interval: Interval,
    start: datetime,
    end: datetime,
    *,
    timeout: float,
    cache_dir: Path,
    base_url: str | None = None,
) -> pl.DataFrame:
    """Bars of ``symbol`` with ``start <= timestamp < end``, unadjusted with ``adj_close``.

    Daily bars come back stamped at midnight New York time (the caller moves them to the
    session's open); intraday bars at their open, UTC. Raises ``YahooUnavailable`` (including
    when ``timeout`` seconds pass without an answer) or ``YahooNoData``.
    """
    try:
        return call_with_deadline(
            lambda: _download(symbol, interval, start, end, timeout, cache_dir, base_url),
            timeout,
            f"{symbol} {interval.text}",
        )
    except DeadlineExceeded as exc:
        raise YahooUnavailable(f"Yahoo Finance unreachable ({exc})") from exc


def _download(
    symbol: str,
    interval: Interval,
    start: datetime,
    end: datetime,
    timeout: float,
    cache_dir: Path,
    base_url: str | None,
) -> pl.DataFrame:
    """The blocking part: configure yfinance, ask, convert, sort the errors."""
    yf = _configured_yfinance(cache_dir)
    from yfinance import exceptions as yfe

    session = redirecting_session(base_url) if base_url else None
    what = f"Yahoo Finance ({symbol} {interval.text})"
    try:
        ticker = yf.Ticker(symbol, session=session)
        frame = ticker.history(
            start=start,
            end=end,
            interval=yahoo_interval(interval),
            auto_adjust=False,
            actions=False,
            repair=False,
            timeout=timeout,
        )
    except (yfe.YFPricesMissingError, yfe.YFTzMissingError) as exc:
        raise YahooNoData(
            f"Yahoo Finance has no {symbol} {interval.text} bars from {start:%Y-%m-%d} "
            f"to {end:%Y-%m-%d} (unknown or delisted symbol?)"
        ) from exc
    except yfe.YFRateLimitError as exc:
        raise YahooUnavailable(f"{what}: rate limited, try again later") from exc
    except (OSError, ValueError, KeyError, TypeError, yfe.YFException) as exc:
        raise YahooUnavailable(
            f"Yahoo Finance unreachable ({symbol} {interval.text}: {_reason(exc)})"
        ) from exc
    return _to_polars(frame, symbol, interval.is_daily)


def _to_polars(frame: Any, symbol: str, daily: bool = False) -> pl.DataFrame:
    """yfinance's pandas frame (Date/Datetime index, Open .. Volume) in the cache's columns.

    A daily bar is its exchange's date, which yfinance stamps at midnight in the exchange's
    zone: it becomes midnight New York of that date, as a US listing's is (the loader moves it
    to the session's open). Converted as an instant, a Tokyo, Frankfurt or London date is the
    evening before in New York: every bar moved a day back, Monday's onto a Sunday."""
    if frame is None or len(frame) == 0:
        return empty_bars()
    flat = frame.reset_index()
    index_name = flat.columns[0]
    stamps = flat[index_name]
    if getattr(stamps.dt, "tz", None) is not None:
        if daily:
            stamps = stamps.dt.tz_localize(None).dt.normalize().dt.tz_localize(str(NEW_YORK))
        stamps = stamps.dt.tz_convert("UTC")
    else:
        stamps = stamps.dt.tz_localize("UTC")
    table = pl.DataFrame(
        {
            "timestamp": stamps.dt.tz_localize(None).to_numpy().astype("datetime64[us]"),
            "open": flat["Open"].to_numpy(),
            "high": flat["High"].to_numpy(),
            "low": flat["Low"].to_numpy(),
            "close": flat["Close"].to_numpy(),
            "adj_close": (flat["Adj Close"] if "Adj Close" in flat else flat["Close"]).to_numpy(),
            "volume": flat["Volume"].to_numpy(),
        }
    )
    return (
        table.with_columns(
            pl.col("timestamp").dt.replace_time_zone("UTC"), pl.lit(symbol).alias("symbol")
        )
        .select(CACHE_COLUMNS)
        .cast(CACHE_SCHEMA)
    )


def redirecting_session(base_url: str) -> Any:
    """A curl_cffi session that sends every request to ``base_url``, keeping path and query."""
    from curl_cffi import requests as curl_requests

    origin = base_url.rstrip("/")

    class RedirectingSession(curl_requests.Session):
        """yfinance's usual session, pointed at a stand-in server."""

        def request(self, method: str, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
            """Swap scheme and host for the stand-in's."""
            parts = urlsplit(url)
            target = origin + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            return super().request(method=method, url=target, **kwargs)

    return RedirectingSession()


def _configured_yfinance(cache_dir: Path) -> Any:
    """Import yfinance, keep it quiet and raising, and point its caches at ``cache_dir``."""
    global _yf_cache_dir
    import yfinance as yf

    with _setup_lock:
        logger = logging.getLogger("yfinance")
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())  # no "last resort" lines on the terminal
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")  # pandas deprecation chatter
        yf.config.debug.hide_exceptions = False
        yf.config.network.retries = 0
        if _yf_cache_dir != cache_dir:
            cache_dir.mkdir(parents=True, exist_ok=True)
            yf.set_tz_cache_location(str(cache_dir))
            _forget_yfinance_cache_objects()
            _yf_cache_dir = cache_dir
        try:
            from yfinance.data import YfData

            YfData.cache_get.cache_clear()  # its in-memory copy would hide our own cache logic
        except (ImportError, AttributeError):
            pass
    return yf


def _forget_yfinance_cache_objects() -> None:
    """Drop yfinance's cache singletons so they reopen their databases at the new location."""
    from yfinance import cache

    for manager, attr in (
        ("_TzCacheManager", "_tz_cache"),
        ("_CookieCacheManager", "_cookie_cache"),
        ("_ISINCacheManager", "_isin_cache"),
    ):
        holder = getattr(cache, manager, None)
        if holder is not None and hasattr(holder, attr):
            setattr(holder, attr, None)


def _reason(exc: BaseException) -> str:
    """A short reason for a failed request: curl's own words when curl failed."""
    text = _first_line(exc)
    if "curl: (" in text:
        text = text.split("curl: (", 1)[1].split(") ", 1)[-1].split(". See ", 1)[0]
        return text.rstrip(".")
    return f"{type(exc).__name__}: {text}"


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's text, or its type's name."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
