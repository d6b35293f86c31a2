"""The sandbox's market: SimMarket bars re-stamped to the present, kept, aggregated and quoted.

SimMarket counts its own calendar from 2024; the sandbox stamps its history so the last warm-up
bar ends when the sandbox starts, and every new bar one interval later, produced once the
sandbox's simulated clock has passed its end (``sim_clock``: at ``--speed`` above 1 that clock
runs ahead of the wall clock, and the bars with it); ``skip`` leaves out the bars of a closed
market or a stall. Before the warm-up lies the deep history of
``history.BackHistory`` (a month at the feed's interval, two years and more of days), so any
timeframe from 1Min to 12Month is served. Volumes are whole shares. Quotes are the last close
plus and minus half a configurable spread. A test can shift a symbol's level (``shock``) to make
a limit order cross on the next bar.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import NEW_YORK, parse_interval, parse_period
from tui_trader.market.sim import SimMarket
from tui_trader.sandbox.history import MINUTE_DAYS, BackHistory

MAX_BARS_KEPT = 100_000
"""Bars kept per symbol (about 69 days of 1m bars around the clock)."""
_TIMEFRAME_RE = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")


_MONTHS = (1, 2, 3, 4, 6, 12)


class TimeframeNotSupported(ValueError):
    """A market data timeframe Alpaca does not define (``0Min``, ``2Day``, ``5Month``...)."""


@dataclass(frozen=True, slots=True)
class Timeframe:
    """An Alpaca bar timeframe: ``unit`` ``min`` (``amount`` minutes), ``day``, ``week`` or
    ``month`` (``amount`` months)."""

    unit: str
    amount: int


@dataclass(frozen=True, slots=True)
class Quote:
    """The best bid and ask of one symbol at one moment."""

    symbol: str
    timestamp: datetime
    bid: float
    bid_size: int
    ask: float
    ask_size: int


def parse_timeframe(text: str) -> Timeframe:
    """Alpaca's timeframes: ``[1-59]Min``/``T``, ``[1-23]Hour``/``H``, ``1Day``/``D``,
    ``1Week``/``W``, ``[1,2,3,4,6,12]Month``/``M``; ``TimeframeNotSupported`` otherwise."""
    match = _TIMEFRAME_RE.match(text.strip())
    if not match:
        raise TimeframeNotSupported(f"invalid timeframe: {text}")
    amount, unit = int(match.group(1)), match.group(2)
    if unit in ("Min", "T") and 1 <= amount <= 59:
        return Timeframe("min", amount)
    if unit in ("Hour", "H") and 1 <= amount <= 23:
        return Timeframe("min", 60 * amount)
    if unit in ("Day", "D") and amount == 1:
        return Timeframe("day", 1)
    if unit in ("Week", "W") and amount == 1:
        return Timeframe("week", 1)
    if unit in ("Month", "M") and amount in _MONTHS:
        return Timeframe("month", amount)
    raise TimeframeNotSupported(f"invalid timeframe: {text}")


def trade_count(bar: Bar) -> int:
    """A plausible number of trades for a bar (Alpaca's ``n``)."""
    return max(1, round(bar.volume / 250))


def vwap(bar: Bar) -> float:
    """A plausible volume-weighted price for a bar (Alpaca's ``vw``): the typical price."""
    return round((bar.high + bar.low + bar.close) / 3.0, 4)


class MarketFeed:
    """Generates, keeps and serves the sandbox's bars and quotes; thread-safe."""

    def __init__(
        self,
        symbols: tuple[str, ...],
        interval: str,
        history: str,
        seed: int,
        spread_bps: float,
        start: datetime,
        minute_days: int = MINUTE_DAYS,
    ) -> None:
        """Warm up ``history`` of ``interval`` bars ending at ``start`` (floored to a bar)."""
        self.symbols = symbols
        self.interval = parse_interval(interval)
        self.step = timedelta(minutes=self.interval.minutes)
        if self.interval.is_daily:
            self.step = timedelta(days=1)
        self._sim = SimMarket(symbols, self.interval, parse_period(history), seed=seed)
        self._lock = threading.Lock()
        self._rng = random.Random(f"quotes:{seed}")
        self._spread = spread_bps / 10_000.0
        self._factor = dict.fromkeys(symbols, 1.0)
        step_s = self.step.total_seconds()
        anchor = datetime.fromtimestamp(start.timestamp() // step_s * step_s, UTC)
        warm = self._sim.warmup()
        count = len(warm[symbols[0]])
        self._bars: dict[str, deque[Bar]] = {s: deque(maxlen=MAX_BARS_KEPT) for s in symbols}
        for symbol, bars in warm.items():
            for i, bar in enumerate(bars):
                stamp = anchor - (count - i) * self.step
                self._bars[symbol].append(_restamp(bar, stamp, 1.0))
        self._next_stamp = anchor
        first = {sym: self._bars[sym][0] for sym in symbols}
        self.history = BackHistory(
            seed,
            self.step,
            first[symbols[0]].timestamp,
            {sym: bar.open for sym, bar in first.items()},
            {sym: sum(b.volume for b in bars) / max(len(bars), 1) for sym, bars in warm.items()},
            count * self.step,
            minute_days,
        )
        self._past_days: dict[str, list[Bar]] = {}
        self._lastday: dict[str, float] = {}
        self._quotes = {s: self._make_quote(s) for s in symbols}

    @property
    def market_time(self) -> datetime:
        """The market's present: the end of the latest bar."""
        with self._lock:
            return self._next_stamp

    def advance(self, shocks: dict[str, float] | None = None) -> dict[str, Bar]:
        """Produce the next bar of every symbol; ``shocks`` shift levels by a percentage first."""
        with self._lock:
            for symbol, pct in (shocks or {}).items():
                if symbol in self._factor:
                    self._factor[symbol] *= 1.0 + pct / 100.0
            raw = self._sim.next_bars()
            stamp = self._next_stamp
            out = {}
            for symbol in self.symbols:
                bar = _restamp(raw[symbol], stamp, self._factor[symbol])
                previous = self._bars[symbol][-1]
                if _ny_date(previous.timestamp) != _ny_date(stamp):
                    self._lastday[symbol] = previous.close
                self._bars[symbol].append(bar)
                out[symbol] = bar
            self._next_stamp = stamp + self.step
            self._quotes = {s: self._make_quote(s) for s in self.symbols}
            return out

    def skip(self, bars: int) -> None:
        """Move the market's present ``bars`` intervals on without producing bars (the market
        was closed, or the pacer stalled)."""
        with self._lock:
            self._next_stamp += bars * self.step

    def latest_bar(self, symbol: str) -> Bar:
        """The most recent completed bar of ``symbol``."""
        with self._lock:
            return self._bars[symbol][-1]

    def last_price(self, symbol: str) -> float:
        """The last traded price of ``symbol``: its latest close."""
        return self.latest_bar(symbol).close

    def lastday_price(self, symbol: str) -> float:
        """The previous New York day's last close (the first bar's open before any rollover)."""
        with self._lock:
            if symbol in self._lastday:
                return self._lastday[symbol]
            bars = self._bars[symbol]
            today = _ny_date(bars[-1].timestamp)
            for bar in reversed(bars):
                if _ny_date(bar.timestamp) != today:
                    return bar.close
            return bars[0].open

    def quote(self, symbol: str) -> Quote:
        """The current best bid and ask of ``symbol``."""
        with self._lock:
            return self._quotes[symbol]

    def prices(self) -> dict[str, float]:
        """Every symbol's last price."""
        with self._lock:
            return {s: self._bars[s][-1].close for s in self.symbols}

    def bars(
        self, symbol: str, timeframe: Timeframe, start: datetime | None, end: datetime | None
    ) -> list[Bar]:
        """Bars of ``symbol`` whose time is in ``[start, end]`` at ``timeframe``, oldest first
        (deep history included; intraday buckets are UTC-aligned, days start at New York
        midnight, weeks on Mondays, months on the 1st)."""
        with self._lock:
            live = list(self._bars[symbol])
        if timeframe.unit == "min":
            older = live[0].timestamp > start if start else True
            series = (self.history.intraday(symbol, start) if older else []) + live
            if timeframe.amount > self.interval.minutes:
                series = _aggregate(_between(series, start, None), timeframe.amount)
            return _between(series, start, end)
        days = _aggregate(live, None)
        if start is None or start <= days[0].timestamp:  # the deep history is wanted
            older = self._older_days(symbol)
            if older and older[-1].timestamp == days[0].timestamp:  # the day they share
                days[0] = _merge([older[-1], days[0]], days[0].timestamp)
                older = older[:-1]
            days = older + days
        if timeframe.unit == "week":
            days = _regroup(days, _week_start)
        elif timeframe.unit == "month":
            days = _regroup(days, lambda day: _month_start(day, timeframe.amount))
        return _between(days, start, end)

    def _older_days(self, symbol: str) -> list[Bar]:
        """Daily bars before the live ones: deep daily history, then the intraday history's
        days (aggregated once; the last may be the live bars' first day, begun)."""
        if symbol not in self._past_days:
            intraday = _aggregate(self.history.intraday(symbol), None)
            self._past_days[symbol] = self.history.daily(symbol) + intraday
        return self._past_days[symbol]

    def quote_at(self, bar: Bar, stamp: datetime) -> Quote:
        """A past quote around ``bar``'s close at ``stamp`` (sizes drawn from the time, so the
        same request always gets the same answer)."""
        half = max(bar.close * self._spread / 2.0, 0.005)
        bid = round(bar.close - half, 2)
        ask = max(round(bar.close + half, 2), round(bid + 0.01, 2))
        sec = int(stamp.timestamp())
        return Quote(bar.symbol, stamp, bid, (sec % 19 + 1) * 100, ask, (sec % 17 + 1) * 100)

    def _make_quote(self, symbol: str) -> Quote:
        """A quote around the latest close (called with the lock held)."""
        mid = self._bars[symbol][-1].close
        half = max(mid * self._spread / 2.0, 0.005)
        bid = round(mid - half, 2)
        ask = max(round(mid + half, 2), round(bid + 0.01, 2))
        return Quote(
            symbol,
            self._next_stamp,
            bid,
            self._rng.randint(1, 20) * 100,
            ask,
            self._rng.randint(1, 20) * 100,
        )


def _restamp(bar: Bar, stamp: datetime, factor: float) -> Bar:
    """``bar`` moved to ``stamp`` with its prices scaled by ``factor``."""
    return Bar(
        bar.symbol,
        stamp,
        round(bar.open * factor, 4),
        round(bar.high * factor, 4),
        round(bar.low * factor, 4),
        round(bar.close * factor, 4),
        round(bar.volume),
    )


def _ny_date(stamp: datetime) -> date:
    """The New York date of a UTC timestamp."""
    return stamp.astimezone(NEW_YORK).date()


def _aggregate(bars: list[Bar], minutes: int | None) -> list[Bar]:
    """Bars merged into buckets of ``minutes`` (UTC-aligned) or New York days (None)."""
    groups: dict[object, list[Bar]] = {}
    for bar in bars:
        if minutes is None:
            key: object = _ny_date(bar.timestamp)
        else:
            key = int(bar.timestamp.timestamp()) // (minutes * 60)
        groups.setdefault(key, []).append(bar)
    out = []
    for key, group in groups.items():
        if minutes is None:
            day = key if isinstance(key, date) else group[0].timestamp.date()
            stamp = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK).astimezone(UTC)
        else:
            stamp = datetime.fromtimestamp(int(key) * minutes * 60, UTC)  # type: ignore[call-overload]
        out.append(_merge(group, stamp))
    return out


def _between(bars: list[Bar], start: datetime | None, end: datetime | None) -> list[Bar]:
    """The bars stamped within ``[start, end]`` (either bound may be open)."""
    return [
        b
        for b in bars
        if (start is None or b.timestamp >= start) and (end is None or b.timestamp <= end)
    ]


def _week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _month_start(day: date, months: int) -> date:
    """The first day of the ``months``-long period (aligned on January) holding ``day``."""
    index = (day.year * 12 + day.month - 1) // months * months
    return date(index // 12, index % 12 + 1, 1)


def _regroup(days: list[Bar], key: Callable[[date], date]) -> list[Bar]:
    """Daily bars merged by ``key(New York date)``, each stamped at its key's New York
    midnight."""
    groups: dict[date, list[Bar]] = {}
    for bar in days:
        groups.setdefault(key(_ny_date(bar.timestamp)), []).append(bar)
    out = []
    for first, group in groups.items():
        stamp = datetime(first.year, first.month, first.day, tzinfo=NEW_YORK).astimezone(UTC)
        out.append(_merge(group, stamp))
    return out


def _merge(group: list[Bar], stamp: datetime) -> Bar:
    """One bar from consecutive bars: first open, highest high, lowest low, last close."""
    return Bar(
        group[0].symbol,
        stamp,
        group[0].open,
        max(b.high for b in group),
        min(b.low for b in group),
        group[-1].close,
        sum(round(b.volume) for b in group),
    )
