"""Bars from Alpaca's market data API (or the sandbox's), through alpaca-py.

Warm-up fetches ``--period`` of history; each later call asks only for bars newer than the last
one seen (at most ``LAG_BARS`` behind the freshest symbol's) and hands the newest completed bar of
each symbol to the engine (``{}`` while nothing new has completed). Every request has a deadline
and a bounded retry, like the broker's reads.

Alpaca stamps a daily bar at midnight New York time of its day; here, as every daily bar of the
desk is (``Interval.is_daily``, Yahoo's), it is stamped at its session's open. At midnight the
exchange calendar still counts the moment to the previous session (until 04:00 pre-market), so a
midnight stamp put each day's bar, and with it the daily-loss window and the day's order count
(``TradingSession.session_day``), on the day before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from tui_trader.brokers import BrokerError, Throttled
from tui_trader.brokers.alpaca_budget import RequestBudget
from tui_trader.brokers.alpaca_calls import CallPolicy, prepare, with_retries
from tui_trader.brokers.alpaca_config import AlpacaEndpoint
from tui_trader.core.domain import Bar
from tui_trader.core.timeframes import NEW_YORK, Interval, Period
from tui_trader.market import MarketDataError
from tui_trader.market.validate import bar_problem
from tui_trader.market.warmup_bars import drop_bad_bars

AHEAD = timedelta(days=366)
"""A bar stamped further than this past both the wall clock and the bar before it is one no
market has made yet. Bars passing ``market.validate``'s times (to 2200) count as seen, and only
later ones are new: a bar stamped 2199 became its symbol's last seen, and the symbol had no new
bar again, without a word (``review29b``). Either alone would refuse real bars: the first bar
of a symbol back from a long halt is far past the one before it, and a sandbox at
``--speed 100000`` stamps its bars a year past the wall clock within minutes."""
_AHEAD_WHY = f"stamped more than {AHEAD.days} days from now"
WARMUP_SYMBOLS = 4
"""Symbols per warm-up request. alpaca-py holds a whole answer twice over (the decoded JSON of
every page, then a model per bar), ~1.7 KB a bar: 20 symbols' five days of minute bars in one
request (~400,000 bars on the sandbox) took a ``live paper`` start to 757 MB (406 MB now). A few
symbols at a time, each answer turned into our bars before the next."""
LAG_BARS = 30
"""How many bars a cycle's request reaches behind the freshest symbol's last bar for a symbol
that has printed none since (halted, or thinly traded on IEX)."""


class AlpacaMarketData:
    """``MarketData`` on Alpaca's historical bars endpoint."""

    def __init__(
        self,
        endpoint: AlpacaEndpoint,
        symbols: tuple[str, ...],
        interval: Interval,
        period: Period,
        policy: CallPolicy | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        from alpaca.data.historical import StockHistoricalDataClient

        self.symbols = symbols
        self.interval = interval
        self.period = period
        self.policy = policy or CallPolicy()
        self._stop = threading.Event()
        self.budget = budget or RequestBudget()
        """The Market Data API's own 200 a minute (counted apart from the Trading API's)."""
        self.client = prepare(
            StockHistoricalDataClient(
                endpoint.key_id, str(endpoint.secret), url_override=endpoint.data_url
            ),
            self.policy,
            self.budget,
            self._stop,
        )
        self._last_seen: dict[str, datetime] = {}
        self._ahead: set[tuple[str, datetime]] = set()
        """The bars stamped past ``AHEAD`` already refused: dropped from later answers."""
        self.warmup_notes: list[str] = []
        """The warm-up's one-line note of the bars it dropped (the start says it)."""

    def warmup(self) -> dict[str, list[Bar]]:
        """``period`` of history per symbol (calendar span padded for weekends and holidays);
        a bar no market makes in it (``market.validate.bar_problem``, or stamped past
        ``AHEAD``) is dropped, named in ``warmup_notes`` (``market.warmup_bars``: too many of
        them refuse the start)."""
        days = int(self.period.trading_days * 7 / 5) + 5
        start = datetime.now(UTC) - timedelta(days=days)
        bars: dict[str, list[Bar]] = {}
        for i in range(0, len(self.symbols), WARMUP_SYMBOLS):
            chosen = self.symbols[i : i + WARMUP_SYMBOLS]
            bars.update(self._fetch(start, "loading warm-up history", chosen))
        ahead = _stamped_ahead(bars, {})
        self._ahead.update(ahead)  # said in the note: dropped from later answers unsaid
        bars, self.warmup_notes = drop_bad_bars(bars, ahead, _AHEAD_WHY)
        for symbol, series in bars.items():
            if series:
                self._last_seen[symbol] = series[-1].timestamp
        return bars

    def next_bars(self) -> dict[str, Bar]:
        """The newest completed bar of each symbol that has one since the last call. A new
        bar no market makes (a close of 0, NaN or below zero, a high under the low) fails the
        call (``MarketDataError``: the cycle is skipped and says which bar), once: it counts
        as seen, and the next call goes on from the bars after it. Taken, a close of -5 sold
        the position, NaN crashed the cycle."""
        if self._last_seen:
            start = _fetch_start(self._last_seen.values(), self.interval)
        else:
            start = datetime.now(UTC) - timedelta(days=5)
        fresh = {}
        fetched = self._fetch(start, what="fetching new bars")
        # refused once, never seen: the bars after them stay new
        ahead = _stamped_ahead(fetched, self._last_seen)
        ahead = {key: bar for key, bar in ahead.items() if key not in self._ahead}
        self._ahead.update(ahead)
        for symbol, series in fetched.items():
            seen = self._last_seen.get(symbol)
            new = [b for b in series if seen is None or b.timestamp > seen]
            new = [b for b in new if (b.symbol, b.timestamp) not in self._ahead]
            fetched[symbol] = new
            if new:
                fresh[symbol] = new[-1]
                self._last_seen[symbol] = new[-1].timestamp
        _refuse_bad(fetched, "a new bar", ahead)
        return fresh

    def close(self) -> None:
        """Abandon any retry wait."""
        self._stop.set()

    def _fetch(
        self, start: datetime, what: str, symbols: tuple[str, ...] | None = None
    ) -> dict[str, list[Bar]]:
        """Bars of ``symbols`` (every symbol) since ``start``, oldest first, as our ``Bar``
        values."""
        from alpaca.data.enums import DataFeed
        from alpaca.data.requests import StockBarsRequest

        symbols = symbols or self.symbols
        request = StockBarsRequest(
            symbol_or_symbols=list(symbols),
            timeframe=_timeframe(self.interval),
            start=start,
            feed=DataFeed.IEX,
        )
        try:
            barset = with_retries(
                lambda: self.client.get_stock_bars(request), self.policy, what, self._stop
            )
        except Throttled:
            raise  # not an outage: the session skips the cycle and says so
        except BrokerError as exc:
            raise MarketDataError(f"Alpaca market data: {exc}") from exc
        data: dict[str, Any] = getattr(barset, "data", {}) or {}
        stamp = _session_open if self.interval.is_daily else _utc
        return {
            symbol: [
                Bar(
                    symbol,
                    stamp(b.timestamp),
                    float(b.open),
                    float(b.high),
                    float(b.low),
                    float(b.close),
                    float(b.volume),
                )
                for b in data.get(symbol, [])
            ]
            for symbol in symbols
        }


def _fetch_start(seen: Iterable[datetime], interval: Interval) -> datetime:
    """Where a cycle's request starts: after the least recent symbol's last bar, but at most
    ``LAG_BARS`` bars behind the freshest's. Only each symbol's newest bar is handed on, so an
    older one is never needed; reaching back to a symbol halted at 10:00 had each cycle fetch
    every symbol's bars since 10:00, more of them each minute (a halt from the warm-up: days of
    them). When every symbol lags (a desk back from sleep) the start is their common last bar."""
    times = list(seen)
    return max(min(times), max(times) - LAG_BARS * interval.duration) + timedelta(microseconds=1)


def _stamped_ahead(
    bars: dict[str, list[Bar]], seen: dict[str, datetime]
) -> dict[tuple[str, datetime], Bar]:
    """The bars stamped more than ``AHEAD`` past the wall clock and past the bar before them
    (in their series, or the symbol's last ``seen``), by symbol and time."""
    latest = datetime.now(UTC) + AHEAD
    ahead = {}
    for symbol, series in bars.items():
        before = seen.get(symbol)
        for bar in series:
            if bar.timestamp > latest and before is not None and bar.timestamp > before + AHEAD:
                ahead[(symbol, bar.timestamp)] = bar
            before = bar.timestamp
    return ahead


def _refuse_bad(
    bars: dict[str, list[Bar]], what: str, ahead: dict[tuple[str, datetime], Bar]
) -> None:
    """``MarketDataError`` naming the first bar no market makes among ``bars`` and ``ahead``
    (stamped past ``AHEAD``), and how many."""
    bad = [(b, _AHEAD_WHY) for b in ahead.values()]
    bad += [(b, why) for series in bars.values() for b in series if (why := bar_problem(b))]
    if bad:
        first, why = bad[0]
        more = f" ({len(bad)} such bars)" if len(bad) > 1 else ""
        raise MarketDataError(
            f"Alpaca market data: {what} of {first.symbol} at {first.timestamp:%Y-%m-%d %H:%M} "
            f"UTC {why}{more}: not traded on"
        )


def _utc(ts: datetime) -> datetime:
    """An intraday bar's stamp (its start), in UTC."""
    return ts.astimezone(UTC)


def _session_open(ts: datetime) -> datetime:
    """A daily bar's stamp: the open of the session on the New York date Alpaca stamped it
    with (``ExchangeCalendar.open_of``, as Yahoo's daily bars are stamped)."""
    from tui_trader.market.calendar import us_equity_calendar

    return us_equity_calendar().open_of(ts.astimezone(NEW_YORK).date())


def _timeframe(interval: Interval) -> Any:
    """alpaca-py's ``TimeFrame`` for one of our intervals."""
    from alpaca.data.timeframe import TimeFrame, TimeFrameUnit

    if interval.is_daily:
        return TimeFrame(1, TimeFrameUnit.Day)
    if interval.minutes % 60 == 0:
        return TimeFrame(interval.minutes // 60, TimeFrameUnit.Hour)
    return TimeFrame(interval.minutes, TimeFrameUnit.Minute)
