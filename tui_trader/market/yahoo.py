"""``--data yahoo``: Yahoo Finance bars through the local cache, replayed like a file.

For each symbol the cache answers what it can and only the missing ranges are downloaded (a
tail since the last run, a head when a longer period is asked for); fresh bars are cleaned
(``clean_bars``: bad rows dropped and counted), stamped like every other source (daily bars at
the session's open, UTC), cut to completed bars and merged into the cache.

When Yahoo cannot be reached (no connection, a refusal, no answer within ``timeout``) the first
failure stops all further requests for the run; a session then falls back to the cache if it
holds enough bars for every symbol, and says in one line how old they are; otherwise it stops
with one clear error. ``data fetch`` never falls back: a fetch that did not happen is an error.

**The download rule for a session**: it needs ``period`` bars of warm-up and then bars to trade:
``iterations`` bars if a bound is given, else another ``period``'s worth. The window is the last
``warm-up + trading`` completed bars before now; the first ``period`` of it is the warm-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tui_trader.core.timeframes import NEW_YORK, Interval, Period
from tui_trader.core.web_address import http_url_problem
from tui_trader.market import MarketDataError
from tui_trader.market.cache import BarCache
from tui_trader.market.calendar import ExchangeCalendar, us_equity_calendar
from tui_trader.market.replay import ReplayMarket
from tui_trader.market.validate import REQUIRED_COLUMNS, clean_bars
from tui_trader.market.yahoo_fetch import (
    YAHOO_URL_ENV,
    YahooNoData,
    YahooUnavailable,
    fetch_chart,
)
from tui_trader.market.yahoo_plan import (
    check_history_limit,
    check_yahoo_interval,
    missing_ranges,
    request_chunks,
    restated,
    seam_start,
    window_start,
)

DEFAULT_TIMEOUT = 8.0
"""Seconds one request to Yahoo may take before the run gives up on the network."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(symbol, done, total)`` before each symbol and once at the end."""


def _utc_now() -> datetime:
    """The wall clock, UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class YahooOptions:
    """How to reach Yahoo and where to cache: every field has a sensible default."""

    cache_dir: Path | None = None
    """The cache directory; ``None`` means ``$TUI_TRADER_CACHE_DIR`` or the user cache dir."""
    timeout: float = DEFAULT_TIMEOUT
    """Our deadline for each request, in seconds."""
    adjusted: bool = False
    """Scale open/high/low/close by Yahoo's adjusted close (splits and dividends)."""
    offline: bool = False
    """Never touch the network: answer from the cache only."""
    base_url: str | None = None
    """A stand-in origin for Yahoo; ``None`` means ``$TUI_TRADER_YAHOO_URL`` or Yahoo itself."""
    now: Callable[[], datetime] = _utc_now
    """The clock deciding which bars have completed (tests freeze it)."""

    def origin(self) -> str | None:
        """The stand-in origin to use, if any; refused (``MarketDataError``) when it is no
        http(s) URL (``web_address``)."""
        origin = self.base_url or os.environ.get(YAHOO_URL_ENV, "").strip() or None
        problem = http_url_problem(origin) if origin else None
        if problem:
            raise MarketDataError(f"${YAHOO_URL_ENV}={origin!r} {problem}")
        return origin


@dataclass(slots=True)
class History:
    """Bars of several symbols from cache and Yahoo, and what the user should be told."""

    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    requests: int = 0
    """How many downloads were made (0 on a full cache hit)."""
    stale: bool = False
    """True when the network failed and the cache stood in."""


def load_history(
    symbols: Sequence[str],
    interval: Interval,
    start: datetime,
    options: YahooOptions | None = None,
    *,
    fallback_bars: int | None = None,
    progress: Progress | None = None,
) -> History:
    """Bars of ``symbols`` from ``start`` to now: cache first, then only what is missing.

    ``fallback_bars`` is how many bars per symbol a session needs: if Yahoo is unreachable and
    the cache holds that many, the newest of them are used instead (``History.stale``). With
    ``None`` an unreachable Yahoo is an error. Raises ``MarketDataError`` with one line.
    """
    options = options or YahooOptions()
    check_yahoo_interval(interval)
    if start.tzinfo is None:
        raise MarketDataError(f"start {start.isoformat()} has no time zone")
    start = start.astimezone(UTC)
    now = options.now().astimezone(UTC)
    check_history_limit(interval, start, now)
    cache = BarCache(options.cache_dir)
    calendar = us_equity_calendar()
    loader = _Loader(cache, calendar, interval, options, now)
    frames: list[pl.DataFrame] = []
    stale: list[str] = []
    for done, symbol in enumerate(symbols):
        if progress:
            progress(symbol, done, len(symbols))
        frame, fresh = loader.symbol_bars(symbol, start)
        if not fresh:
            stale.append(symbol)
        frames.append(frame)
    if progress:
        progress("", len(symbols), len(symbols))
    history = History(pl.concat(frames, how="vertical"), loader.notes, loader.requests)
    if stale:
        history.frame = _fall_back(symbols, stale, loader, fallback_bars)
        reason = loader.unreachable or "Yahoo Finance unreachable"
        history.notes.append(f"{reason}; using cached bars: {_ages(loader, stale)}")
        history.stale = True
    # Downloads are cleaned before they are cached; the cache's own rows are checked here, as
    # read (a file edited or damaged by hand: a close of -5 was served to the session).
    kept = clean_bars(history.frame, f"cached bars in {cache.root}", keep=("adj_close",))
    if kept.dropped:
        order = ("timestamp", "symbol") if history.stale else ("symbol", "timestamp")
        history.frame = kept.frame.sort(*order)
        history.notes.extend(kept.problems)
    if options.adjusted:
        history.frame = adjust(history.frame)
    return history


def open_yahoo_market(
    symbols: Sequence[str],
    interval: Interval,
    period: Period,
    iterations: int | None = None,
    options: YahooOptions | None = None,
    report: Callable[[str], None] | None = None,
    progress: Progress | None = None,
) -> ReplayMarket:
    """A replay of Yahoo bars: ``period`` of warm-up, then ``iterations`` (or a period) to trade.

    ``report`` receives the one-line notes (dropped rows, offline fallback and its age).
    """
    options = options or YahooOptions()
    check_yahoo_interval(interval)
    warmup = period.bars(interval)
    needed = warmup + (iterations if iterations else warmup)
    start = window_start(interval, needed, options.now(), us_equity_calendar())
    history = load_history(
        symbols, interval, start, options, fallback_bars=needed, progress=progress
    )
    for note in history.notes:
        if report:
            report(note)
    label = f"yahoo {interval.text}" + (" (cache, offline)" if history.stale else "")
    return ReplayMarket(history.frame.select(REQUIRED_COLUMNS), label, symbols, interval, period)


def adjust(frame: pl.DataFrame) -> pl.DataFrame:
    """Open, high, low and close scaled by ``adj_close / close`` (Yahoo's adjustment factor)."""
    factor = pl.col("adj_close") / pl.col("close")
    return frame.with_columns(
        *[(pl.col(c) * factor).alias(c) for c in ("open", "high", "low")],
        pl.col("adj_close").alias("close"),
    )


class _Loader:
    """Brings one symbol's cached file up to date, remembering the first network failure."""

    def __init__(
        self,
        cache: BarCache,
        calendar: ExchangeCalendar,
        interval: Interval,
        options: YahooOptions,
        now: datetime,
    ) -> None:
        """Hold what every symbol's load shares."""
        self.cache = cache
        self.calendar = calendar
        self.interval = interval
        self.options = options
        self.now = now
        self.notes: list[str] = []
        self.requests = 0
        self.unreachable: str | None = "offline mode (--offline)" if options.offline else None
        self._since_expr: pl.Expr | None = None
        self._since_value: datetime | None = None

    def symbol_bars(self, symbol: str, start: datetime) -> tuple[pl.DataFrame, bool]:
        """The symbol's bars since ``start`` and whether the cache is now up to date.

        A tail download asks for the newest cached bar again: when Yahoo has restated it (a
        split since it was cached), the cached bars are dropped and the whole window is
        downloaded anew, said in a note."""
        iv = self.interval.text
        cached = self.cache.read(symbol, iv)
        last_bar = cached.get_column("timestamp").max() if cached is not None else None
        covered = self.cache.coverage(symbol, iv) if cached is not None else None
        ranges = missing_ranges(covered, last_bar, start, self.now, self.interval, self.calendar)  # type: ignore[arg-type]
        fresh = True
        for first, last in ranges:
            if self.unreachable is not None:
                fresh = False
                break
            tail = cached is not None and first > last_bar >= start  # type: ignore[operator]
            seam = last_bar if tail else None
            if seam is not None:
                first = seam_start(seam, self.interval)  # type: ignore[arg-type]
            try:
                new = self._download(symbol, first, last, first_time=cached is None)
            except YahooUnavailable as exc:
                self.unreachable = str(exc)
                fresh = False
                break
            moved = restated(cached, new, seam) if seam is not None else None  # type: ignore[arg-type]
            if moved is not None:
                self.notes.append(
                    f"{symbol}: Yahoo restated its {iv} history since it was cached (a split?): "
                    f"the close of {seam:%Y-%m-%d %H:%M} UTC is {moved}; its cached bars were "
                    "dropped and downloaded again"
                )
                self.cache.clear([symbol], iv)
                return self.symbol_bars(symbol, start)
            cached = self.cache.merge(symbol, iv, new, first, last, fetched_at=_utc_now())
        if cached is None:
            return self.cache.load([], iv), fresh
        first_bar = cached.get_column("timestamp").min() if cached.height else None
        if first_bar is None or first_bar >= start:  # type: ignore[operator]
            return cached, fresh
        return cached.filter(pl.col("timestamp") >= self._since(start)), fresh

    def _since(self, start: datetime) -> pl.Expr:
        """``start`` as a UTC literal, built once (a time-zone-aware literal is slow to make)."""
        if self._since_expr is None or self._since_value != start:
            self._since_expr = pl.lit(start, dtype=pl.Datetime("us", "UTC"))
            self._since_value = start
        return self._since_expr

    def _download(
        self, symbol: str, start: datetime, end: datetime, first_time: bool
    ) -> pl.DataFrame:
        """Fetch ``[start, end)`` in request-sized pieces, cleaned, stamped, completed bars only."""
        parts = []
        for lo, hi in request_chunks(start, end, self.interval):
            self.requests += 1
            try:
                parts.append(
                    fetch_chart(
                        symbol,
                        self.interval,
                        lo,
                        hi,
                        timeout=self.options.timeout,
                        cache_dir=self.cache.yfinance_dir,
                        base_url=self.options.origin(),
                    )
                )
            except YahooNoData as exc:
                if first_time and len(request_chunks(start, end, self.interval)) == 1:
                    raise MarketDataError(str(exc)) from exc
        if not parts:
            return self.cache.load([], self.interval.text)
        raw = self._stamped(pl.concat(parts, how="vertical"))
        result = clean_bars(raw, f"yahoo {symbol} {self.interval.text}", keep=("adj_close",))
        self.notes.extend(result.problems)
        return result.frame

    def _stamped(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Daily bars moved to their session's open; bars not yet completed dropped."""
        if frame.height == 0:
            return frame
        if not self.interval.is_daily:
            return frame.filter(
                pl.col("timestamp") + pl.duration(minutes=self.interval.minutes) <= self.now
            )
        days = frame.get_column("timestamp").dt.convert_time_zone(str(NEW_YORK)).dt.date()
        opens, keep = [], []
        for day in days.to_list():
            session = self.calendar.session(day)
            opens.append(self.calendar.open_of(day))
            keep.append(session.close <= self.now if session else True)
        return frame.with_columns(
            pl.Series("timestamp", opens, dtype=pl.Datetime("us", "UTC"))
        ).filter(pl.Series(keep))


def _fall_back(
    symbols: Sequence[str], stale: list[str], loader: _Loader, needed: int | None
) -> pl.DataFrame:
    """The newest ``needed`` bars of the cache, or a one-line error when it cannot stand in."""
    reason = loader.unreachable or "Yahoo Finance unreachable"
    if needed is None:
        raise MarketDataError(f"{reason}; not updated: {_ages(loader, stale)}")
    iv = loader.interval.text
    full = loader.cache.load(symbols, iv)
    short = []
    for symbol in symbols:
        rows = full.filter(pl.col("symbol") == symbol).height
        if rows < needed:
            short.append(f"{symbol} {rows}")
    if short:
        raise MarketDataError(
            f"{reason}; the cache cannot stand in: {needed} {iv} bars needed per symbol, "
            f"cached: {_names(short)}"
        )
    stamps = full.get_column("timestamp").unique().sort()
    return full.filter(pl.col("timestamp") >= stamps[-needed]).sort("timestamp", "symbol")


def _ages(loader: _Loader, which: list[str]) -> str:
    """``SPY, QQQ up to 2025-06-12 (5 days old)``, grouped by the newest cached bar's date."""
    by_last: dict[str, list[str]] = {}
    for symbol in which:
        cached = loader.cache.read(symbol, loader.interval.text)
        if cached is None or cached.height == 0:
            by_last.setdefault("(nothing cached)", []).append(symbol)
            continue
        newest: datetime = cached.get_column("timestamp").max()  # type: ignore[assignment]
        age = _age_words(loader.now - newest)
        shown = newest.astimezone(NEW_YORK)
        when = f"{shown:%Y-%m-%d}" if loader.interval.is_daily else f"{shown:%Y-%m-%d %H:%M} ET"
        key = f"up to {when} ({age} old)"
        by_last.setdefault(key, []).append(symbol)
    return "; ".join(f"{_names(names)} {key}" for key, names in by_last.items())


def _names(symbols: list[str], shown: int = 6) -> str:
    """``SPY, QQQ`` or, for a long list, ``S000, S001, ... and 94 more``."""
    if len(symbols) <= shown:
        return ", ".join(symbols)
    return f"{', '.join(symbols[:shown])} and {len(symbols) - shown} more"


def _age_words(age: timedelta) -> str:
    """``3 days``, ``5 hours``, ``12 minutes``."""
    if age >= timedelta(days=2):
        return f"{age.days} days"
    hours = int(age.total_seconds() // 3600)
    if hours >= 2:
        return f"{hours} hours"
    return f"{max(int(age.total_seconds() // 60), 0)} minutes"
