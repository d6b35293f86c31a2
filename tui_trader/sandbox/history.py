"""The sandbox's deep history: bars before its warm-up, generated backwards, lazily, by seed.

The live market (``feed.MarketFeed``) keeps a few days of bars at its own interval. A bot wants
more: a 200-day average needs 200 daily bars, a month of minutes is common. This module makes
them on first request and keeps them: ``MINUTE_DAYS`` days of bars at the feed's interval
(intraday feeds only) and, before those, ``DAILY_DAYS`` days of daily bars. Both are a random
walk run backwards from the oldest warm-up bar, so the series joins the live one without a gap
or a jump (each generated bar closes where the next one opens), and the same seed gives the same
history. Volumes are whole shares, as Alpaca's int64 ``v``.
"""

from __future__ import annotations

import math
import random
import threading
from datetime import UTC, datetime, timedelta

from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import NEW_YORK

MINUTE_DAYS = 30
"""Days of intraday bars behind the live market (counted back from the oldest warm-up bar's
time minus the warm-up, so the total reaches at least this far back from the start)."""
DAILY_DAYS = 800
"""Days of daily bars before the intraday history: more than two years of weekdays."""
DAILY_SIGMA = 0.012
"""Standard deviation of a day's log return."""
DAILY_DRIFT = 0.0003
"""Mean daily log return (forward in time: the walk backwards falls by it)."""
_SESSION_MINUTES = 390.0


CHUNK = 1440
"""Intraday bars made at a time: a request reaching a week back makes a week, not a month."""


class _Walk:
    """A random walk going back in time, continued chunk by chunk (same bars however cut)."""

    def __init__(
        self,
        key: str,
        symbol: str,
        end: datetime,
        price: float,
        step: timedelta,
        total: int,
        sigma: float,
        drift: float,
        volume: float,
    ) -> None:
        """``total`` bars of ``step`` before ``end``, the newest closing at ``price``."""
        self.rng = random.Random(key)
        self.symbol = symbol
        self.oldest = end
        self.close = price
        self.step = step
        self.left = total
        self.sigma = sigma
        self.drift = drift
        self.volume = volume
        self.chunks: list[list[Bar]] = []
        """Newest chunk first; each chunk oldest bar first."""

    def extend(self, count: int) -> None:
        """Walk ``count`` more bars back (fewer if the history ends)."""
        count = min(count, self.left)
        gauss, uniform, exp = self.rng.gauss, self.rng.random, math.exp
        sigma, drift, volume, step = self.sigma, self.drift, self.volume, self.step
        close, stamp = self.close, self.oldest
        rows: list[Bar] = []
        for _ in range(count):  # newest first; one Gaussian a bar keeps a month of minutes quick
            open_ = close / exp(gauss(drift, sigma))
            high = max(open_, close) * (1.0 + uniform() * sigma)
            low = min(open_, close) * (1.0 - uniform() * sigma)
            stamp -= step
            shares = max(1, int(volume * (0.5 + uniform())))
            rows.append(
                Bar(
                    self.symbol,
                    stamp,
                    round(open_, 4),
                    round(high, 4),
                    round(low, 4),
                    round(close, 4),
                    shares,
                )
            )
            close = open_
        rows.reverse()
        self.chunks.append(rows)
        self.close, self.oldest, self.left = close, stamp, self.left - count

    def bars(self) -> list[Bar]:
        """Every bar made so far, oldest first."""
        return [bar for chunk in reversed(self.chunks) for bar in chunk]


class BackHistory:
    """History of every symbol before ``anchor`` (the oldest live bar), made on demand."""

    def __init__(
        self,
        seed: int,
        step: timedelta,
        anchor: datetime,
        opens: dict[str, float],
        volumes: dict[str, float],
        live_span: timedelta,
        minute_days: int = MINUTE_DAYS,
    ) -> None:
        """``opens``: each symbol's oldest live open (the walk ends there); ``volumes``: its
        mean live bar volume; ``live_span``: how far back the live bars already reach;
        ``minute_days``: how far back intraday bars reach in all."""
        self.seed = seed
        self.step = step
        self.anchor = anchor
        self._opens = opens
        self._volumes = volumes
        self._intraday = step < timedelta(days=1)
        span = max(timedelta(days=minute_days) - live_span, timedelta(0))
        self._count = int(span / step) if self._intraday else 0
        self._lock = threading.Lock()
        self._walks: dict[str, _Walk] = {}
        self._days: dict[str, list[Bar]] = {}

    def intraday(self, symbol: str, since: datetime | None = None) -> list[Bar]:
        """Bars at the feed's interval before the live ones, oldest first, reaching back to
        ``since`` at least (None: all of them; empty for a daily feed)."""
        with self._lock:
            walk = self._walks.get(symbol)
            if walk is None:
                minutes = self.step.total_seconds() / 60.0
                walk = self._walks[symbol] = _Walk(
                    f"history:{self.seed}:{symbol}:intraday", symbol, self.anchor,
                    self._opens[symbol], self.step, self._count,
                    DAILY_SIGMA * math.sqrt(minutes / _SESSION_MINUTES),
                    DAILY_DRIFT * minutes / _SESSION_MINUTES, self._volumes[symbol],
                )  # fmt: skip
            while walk.left > 0 and (since is None or walk.oldest > since):
                walk.extend(CHUNK)
            return walk.bars()

    def daily(self, symbol: str) -> list[Bar]:
        """Daily bars (stamped at New York midnight) before the intraday history, oldest first;
        made once per symbol."""
        first = self.intraday(symbol)
        with self._lock:
            if symbol not in self._days:
                end = first[0].timestamp if first else self.anchor
                price = first[0].open if first else self._opens[symbol]
                day = end.astimezone(NEW_YORK).date()
                midnight = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
                bars_a_day = timedelta(days=1) / self.step if self._intraday else 1.0
                walk = _Walk(
                    f"history:{self.seed}:{symbol}:daily", symbol, midnight.astimezone(UTC),
                    price, timedelta(days=1), DAILY_DAYS, DAILY_SIGMA, DAILY_DRIFT,
                    self._volumes[symbol] * bars_a_day,
                )  # fmt: skip
                walk.extend(DAILY_DAYS)
                self._days[symbol] = walk.bars()
            return self._days[symbol]
