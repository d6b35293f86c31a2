"""Replay: bars from a CSV or Parquet file, handed out one timestamp at a time.

The file has one row per symbol and bar (columns timestamp, symbol, open, high, low, close,
volume). It is checked whole before the first bar is used, so a bad file stops the session at
start-up with the file named, never half-way through. The first ``--period`` of the file is the
warm-up history; trading starts on the bar after it.

The table stays a polars frame; its columns become Python values ``CHUNK_STEPS`` timestamps at
a time as the replay reaches them, and each timestamp's ``Bar`` objects are made when it is
handed out, so a long file costs its columnar size, not a million ``Bar``s.

A chunk's ``Bar``s were made all at once and kept until the chunk was used up: 409,600 live
objects at 100 symbols, which Python's garbage collector scanned again and again while they
lived (each young collection of a batch replay walked 50,000 of them, and a middle one all of
them: 280-490 ms of CPU in the 100 x 10,000 replay's ~20 s, issue 17). Made a timestamp at a time,
they die with their cycle, by reference counting; the same values, in the same order.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import fields
from datetime import datetime, time, timedelta
from itertools import islice
from pathlib import Path

import polars as pl

from tui_trader.core.domain import Bar
from tui_trader.core.shown import shown_path
from tui_trader.core.symbols import TICKER_RULE, bad_symbols, too_many_symbols
from tui_trader.core.timeframes import (
    NEW_YORK,
    Interval,
    Period,
    TimeframeError,
    parse_interval,
    parse_period,
)
from tui_trader.market import MarketDataError
from tui_trader.market.bar_file import read_bar_file

_new = object.__new__
_BAR_SETTERS = tuple(Bar.__dict__[f.name].__set__ for f in fields(Bar))
"""The slot setters of ``Bar``'s fields, in order: a replay builds one ``Bar`` per row, and
setting the slots directly costs about half of the frozen dataclass's ``__init__`` (which goes
through ``object.__setattr__`` field by field). A ``Bar`` stops being slotted: this fails at
import, not silently."""

CHUNK_STEPS = 4_096
"""Timestamps turned into ``Bar`` objects at a time."""
_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")


class ReplayMarket:
    """Bars from a file, in timestamp order; ``next_bars`` returns ``None`` after the last one."""

    def __init__(
        self,
        frame: pl.DataFrame,
        source: str,
        symbols: Iterable[str] | None = None,
        interval: Interval | None = None,
        period: Period | None = None,
    ) -> None:
        """Serve a validated bar table (see ``normalize_bars``); ``source`` names it in errors."""
        self.source = source
        present = sorted(frame.get_column("symbol").unique().to_list())
        wanted = tuple(symbols) if symbols else tuple(present)
        held = set(present)  # a list: each look-up read it whole (20,000 symbols: 5 s)
        unknown = [s for s in wanted if s not in held]
        if unknown:  # none present: every row dropped ("(the file has )" was all it said)
            has = f"the file has {', '.join(present)}" if present else "no bar is left to trade on"
            raise MarketDataError(f"{source}: no bars for {', '.join(unknown)} ({has})")
        self.symbols = wanted
        self.interval = interval or parse_interval("1d")
        self.period = period or parse_period("60d")
        if len(set(wanted)) < len(present):  # copies only when needed: a long file is big
            frame = frame.filter(pl.col("symbol").is_in(list(wanted)))
        if not _in_step_order(frame):
            frame = _to_step_order(frame)
        self._frame = frame
        starts = frame.select(pl.arg_where(_new_step())).to_series()  # sorted: no hash table
        self._offsets = array("q")
        for first in range(0, len(starts), 65_536):  # never a list of a million ints at once
            self._offsets.extend(starts.slice(first, 65_536).to_list())
        self._offsets.append(frame.height)
        """Row where each timestamp's bars start (one more entry: the end)."""
        self._steps = len(self._offsets) - 1
        self._chunk: Iterator[tuple[datetime, dict[str, Bar]]] = iter(())
        """The steps of the chunk being handed out, made one at a time (``_group_by_timestamp``)."""
        self._chunk_next = 0
        """The step ``_chunk`` yields next."""
        self._chunk_end = 0
        """The step after the chunk's last."""
        self._warmup_steps = min(self.period.bars(self.interval), max(self._steps - 1, 0))
        self._cursor = 0

    @classmethod
    def from_file(
        cls,
        path: Path,
        symbols: Iterable[str] | None = None,
        interval: Interval | None = None,
        period: Period | None = None,
        report: Callable[[str], None] | None = None,
    ) -> ReplayMarket:
        """Read, check and serve a CSV or Parquet bar file (``report``: where the reader's
        one-line notes go, such as a newest-first file read in time order)."""
        notes: list[str] = []
        frame = read_bar_file(path, notes)
        if interval is not None and interval.is_daily:
            frame = _dates_at_open(frame, shown_path(path), notes)
        market = cls(frame, str(path), symbols, interval, period)
        if report is not None:
            for note in notes:
                report(note)
        return market

    @property
    def total_steps(self) -> int:
        """How many distinct timestamps the file holds."""
        return self._steps

    @property
    def remaining_steps(self) -> int:
        """Timestamps not handed out yet."""
        return self._steps - self._cursor

    def warmup(self) -> dict[str, list[Bar]]:
        """The first ``period`` of the file, per symbol (never all of it: one step is kept back)."""
        history: dict[str, list[Bar]] = {s: [] for s in self.symbols}
        if self._cursor:
            return history
        steps = self._warmup_steps  # just the warm-up rows, not a whole chunk
        warm = self._frame.slice(0, self._offsets[steps])
        for _ts, bars in _group_by_timestamp(warm, self._offsets[: steps + 1], 0):
            for symbol, bar in bars.items():
                history[symbol].append(bar)
        self._cursor = self._warmup_steps
        return history

    def next_bars(self) -> dict[str, Bar] | None:
        """The bars of the next timestamp, or ``None`` once the file is used up."""
        if self._cursor >= self._steps:
            return None
        bars = self._step(self._cursor)
        self._cursor += 1
        return bars

    def _step(self, step: int) -> dict[str, Bar]:
        """The bars of one timestamp by symbol (handed out once: the caller may keep the dict),
        converting the next chunk of the table when needed."""
        if step != self._chunk_next or step >= self._chunk_end:
            end = min(step + CHUNK_STEPS, self._steps)
            offsets = self._offsets[step : end + 1]
            first, last = offsets[0], offsets[-1]
            rows = self._frame.slice(first, last - first)
            self._chunk = _group_by_timestamp(rows, offsets, first)
            self._chunk_end = end
        self._chunk_next = step + 1
        return next(self._chunk)[1]

    @property
    def frame(self) -> pl.DataFrame:
        """The whole bar table (warm-up included), sorted by timestamp, then symbol."""
        return self._frame

    @property
    def next_row(self) -> int:
        """The table row where the bars not handed out yet begin."""
        return self._offsets[self._cursor]

    def dense(self) -> bool:
        """True when every timestamp has a bar for every symbol (one row per symbol and step)."""
        n = len(self.symbols)
        return self._offsets[-1] == n * self._steps

    def consume(self) -> None:
        """Mark every bar as handed out (the replay fast path read them from ``frame``)."""
        self._cursor = self._steps

    def advance(self, steps: int) -> None:
        """Mark the next ``steps`` timestamps as handed out (a fast replay stopped early)."""
        self._cursor = min(self._cursor + steps, self._steps)

    def close(self) -> None:
        """Nothing to release: the file was read whole."""

    def check_fit(self) -> None:
        """Refuse a file that cannot mean what the session's settings say: symbols that are not
        tickers (the command line's rule), bars spaced other than ``interval`` (a daily file run
        as 1m bars would trade days as minutes), a warm-up as long as the file or longer."""
        wrong = bad_symbols(list(self.symbols))
        if wrong:
            raise MarketDataError(
                f"{self.source}: {wrong[0]!r} is not a ticker symbol ({TICKER_RULE})"
            )
        refusal = too_many_symbols(len(self.symbols))
        if refusal:
            raise MarketDataError(f"{self.source} holds {refusal} (pick some with --symbols)")
        spacing = self.typical_spacing()
        if spacing is not None and not _fits(spacing, self.interval):
            raise MarketDataError(
                f"{self.source}: its bars are {_words(spacing)} apart, but --interval is "
                f"{self.interval.text}: {_what_to_pass(spacing)}"
            )
        need = self.period.bars(self.interval)
        if need >= self._steps:
            raise MarketDataError(
                f"{self.source}: --period {self.period.text} needs {need:,} bars of warm-up but "
                f"the file holds {self._steps:,} per symbol (and at least one more to trade): "
                "choose a shorter --period"
            )

    def typical_spacing(self) -> int | None:
        """The most common gap between consecutive timestamps, in minutes (None: one bar)."""
        stamps = self._frame.select(pl.col("timestamp").filter(_new_step())).to_series()
        gaps = stamps.diff().drop_nulls()
        if gaps.is_empty():
            return None
        common = gaps.mode().sort()
        return int(common[0].total_seconds() // 60)


def _dates_at_open(frame: pl.DataFrame, source: str, notes: list[str]) -> pl.DataFrame:
    """Daily bars written as dates (every one at midnight: GOOG.csv, Yahoo's and stooq's
    downloads) stamped at their day's open, 09:30 New York, as Yahoo's daily bars are.

    Read as midnight UTC, a date was the evening before in New York, where trading days are
    counted: each bar's trading day was the day before its own (Monday's a Sunday), said so in
    the new-day events and ``risk show``, and ``status`` labelled its time after hours."""
    stamps = pl.col("timestamp")
    if frame.is_empty() or not frame.select((stamps.dt.time() == time(0)).all()).item():
        return frame
    gaps = frame.get_column("timestamp").unique().sort().diff().drop_nulls()
    if gaps.is_empty() or gaps.mode().sort()[0] != timedelta(days=1):
        return frame  # no daily file (monthly bars): refused by ``check_fit`` as they are
    notes.append(
        f"{source}: daily bars with no time of day: each at its day's open, 09:30 New York"
    )
    opens = (
        stamps.dt.date()
        .cast(pl.Datetime("us"))
        .dt.offset_by("9h30m")
        .dt.replace_time_zone(str(NEW_YORK))
        .dt.convert_time_zone("UTC")
    )
    return frame.with_columns(opens.alias("timestamp"))


def _new_step() -> pl.Expr:
    """True on a row whose timestamp differs from the row before (the first row included)."""
    return pl.col("timestamp").ne_missing(pl.col("timestamp").shift(1))


def _in_step_order(frame: pl.DataFrame) -> bool:
    """Whether the table is already sorted by timestamp, then symbol (files usually are)."""
    ts, symbol = pl.col("timestamp"), pl.col("symbol")
    later = (ts > ts.shift(1)) | ((ts == ts.shift(1)) & (symbol > symbol.shift(1)))
    return bool(frame.select(later.slice(1).all()).item())


def _to_step_order(frame: pl.DataFrame) -> pl.DataFrame:
    """The table sorted by timestamp, then symbol (rows equal in both keep their order).

    A file written symbol after symbol, each in time order (one export per symbol joined, as
    the benchmark's), needs only a stable sort by timestamp: rows of one timestamp then keep
    their order, which is the symbols' order. The same table as the sort by both keys, for a
    third of its time (the string comparisons are what cost: 1,000,000 rows, ~80-180 against
    ~330-590 ms of CPU, issue 17)."""
    ts, symbol = pl.col("timestamp"), pl.col("symbol")
    later = (symbol > symbol.shift(1)) | ((symbol == symbol.shift(1)) & (ts > ts.shift(1)))
    if frame.select(later.slice(1).fill_null(False).all()).item():
        return frame.sort("timestamp", maintain_order=True)
    return frame.sort("timestamp", "symbol", maintain_order=True)


def _fits(spacing_minutes: int, interval: Interval) -> bool:
    """Whether the usual gap between bars is what ``interval`` says (daily bars: a calendar day,
    give or take an hour of a clock change)."""
    if interval.is_daily:
        return 23 * 60 <= spacing_minutes <= 25 * 60
    return spacing_minutes == interval.minutes


def _what_to_pass(spacing_minutes: int) -> str:
    """What a user should do about a file whose bars are ``spacing_minutes`` apart."""
    if spacing_minutes > 25 * 60:
        return (
            "sessions replay bars of a day or shorter; weekly or monthly bars can be scored "
            "with `tui-trader learn evaluate --data FILE`"
        )
    if spacing_minutes >= 23 * 60:
        return "pass --interval 1d"
    text = f"{spacing_minutes // 60}h" if spacing_minutes % 60 == 0 else f"{spacing_minutes}m"
    try:
        parse_interval(text)
    except TimeframeError:
        return "no --interval fits it (sessions take bars of 1m to 1d)"
    return f"pass --interval {text}"


def _words(minutes: int) -> str:
    """A gap in plain words."""
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour(s)"
    return f"{minutes} minute(s)"


def _group_by_timestamp(
    frame: pl.DataFrame, offsets: Sequence[int], first: int
) -> Iterator[tuple[datetime, dict[str, Bar]]]:
    """The sorted table as ``(timestamp, bars by symbol)`` steps (in the table's symbol order),
    each step's ``Bar``s made when it is asked for. ``offsets`` are where each step's rows
    start, and its end, counted from ``first`` (``ReplayMarket``'s step offsets, which found
    the steps already): one ``datetime`` is made per step, shared by its bars, rather than one
    per row (at 100 symbols a quarter of the conversion's time went to making the same
    timestamp a hundred times). The columns become Python values at the first step."""
    starts = [start - first for start in offsets[:-1]]
    stamps = frame.get_column("timestamp").gather(starts).to_list()
    columns = [frame.get_column(name).to_list() for name in _COLUMNS[1:]]  # not iter_rows
    rows = zip(*columns, strict=True)
    set_symbol, set_ts, set_open, set_high, set_low, set_close, set_volume = _BAR_SETTERS
    new, bar_type = _new, Bar
    for ts, start, end in zip(stamps, offsets[:-1], offsets[1:], strict=True):
        step: dict[str, Bar] = {}
        for symbol, o, h, lo, c, v in islice(rows, end - start):
            bar = new(bar_type)  # Bar(symbol, ts, o, h, lo, c, v), slot by slot (_BAR_SETTERS)
            set_symbol(bar, symbol)
            set_ts(bar, ts)
            set_open(bar, o)
            set_high(bar, h)
            set_low(bar, lo)
            set_close(bar, c)
            set_volume(bar, v)
            step[symbol] = bar
        yield ts, step
