"""The sandbox's market: SimMarket bars re-stamped to the present, kept, aggregated and quoted.

SimMarket counts its own calendar from 2024; the sandbox stamps its history so the last warm-up
bar ends when the sandbox starts, and every new bar one interval later (at ``--speed`` above 1
the market's time runs ahead of the wall clock). Quotes are the last close plus and minus half a
configurable spread. A test can shift a symbol's level (``shock``) to make a limit order cross on
the next bar.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import NEW_YORK, parse_interval, parse_period
from tui_trader.market.sim import SimMarket

MAX_BARS_KEPT = 100_000
"""Bars kept per symbol (about 69 days of 1m bars around the clock)."""
_TIMEFRAME_RE = re.compile(r"^(\d+)(Min|T|Hour|H|Day|D|Week|W|Month|M)$")


class TimeframeNotSupported(ValueError):
    """A market data timeframe the sandbox cannot serve (weeks, months, unknown words)."""


@dataclass(frozen=True, slots=True)
class Quote:
    """The best bid and ask of one symbol at one moment."""

    symbol: str
    timestamp: datetime
    bid: float
    bid_size: int
    ask: float
    ask_size: int


def parse_timeframe(text: str) -> int | None:
    """Alpaca's ``5Min``/``1Hour``/``1Day`` as minutes, or None for one day; raise otherwise."""
    match = _TIMEFRAME_RE.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise TimeframeNotSupported(f"invalid timeframe: {text}")
    amount, unit = int(match.group(1)), match.group(2)
    if unit in ("Min", "T"):
        return amount
    if unit in ("Hour", "H"):
        return 60 * amount
    if unit in ("Day", "D") and amount == 1:
        return None
    raise TimeframeNotSupported(f"timeframe {text} is not served by the sandbox")


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
        self, symbol: str, minutes: int | None, start: datetime | None, end: datetime | None
    ) -> list[Bar]:
        """Bars of ``symbol`` in ``[start, end]``, aggregated to ``minutes`` (None: one day)."""
        with self._lock:
            kept = [
                b
                for b in self._bars[symbol]
                if (start is None or b.timestamp >= start) and (end is None or b.timestamp <= end)
            ]
        if minutes is not None and minutes <= self.interval.minutes:
            return kept
        return _aggregate(kept, minutes)

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
        bar.volume,
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
        out.append(
            Bar(
                group[0].symbol,
                stamp,
                group[0].open,
                max(b.high for b in group),
                min(b.low for b in group),
                group[-1].close,
                sum(b.volume for b in group),
            )
        )
    return out
