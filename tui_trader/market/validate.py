"""Checks that every bar table must pass before anything trades on it.

Shared by every adapter that reads bars in bulk (replay files, caches, downloads). Two modes:
``normalize_bars`` refuses a table with any bad row (a replay file is the user's own and must be
fixed, so the error names the file and the problem), while ``clean_bars`` drops bad rows from a
download and reports how many, in one line per kind of problem, so that nothing bad is traded on
and nothing is dropped silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from tui_trader.core.domain import Bar
from tui_trader.market import MarketDataError
from tui_trader.market.stamps import SAMPLE_ROWS, first_unreadable, utc_timestamps

REQUIRED_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")
UNREADABLE = "with an unreadable timestamp"
MIN_PRICE = 1e-8
"""The lowest price a bar may hold: below it a sizing of a trillion dollars divided by the price
is no longer a finite number of shares (a price of 1e-300 crashed a session mid-run)."""
MAX_PRICE = 1e12
"""The highest price a bar may hold, as ``cli.numbers.MAX_NUMBER`` bounds cash: a close of 1e308
made a held position's value infinite and the session stopped mid-run on a NaN."""
FIRST_TIME = datetime(1800, 1, 1, tzinfo=UTC)
END_TIME = datetime(2200, 1, 1, tzinfo=UTC)
"""Bars are timed from 1800 up to (not including) 2200: the calendar steps a day or a week
either side of a bar, and a bar of 9999-12-31 overflowed Python's dates mid-session."""


@dataclass(frozen=True, slots=True)
class CleanBars:
    """A cleaned bar table and the one-line problems found while cleaning it."""

    frame: pl.DataFrame
    problems: list[str] = field(default_factory=list)
    dropped: int = 0
    """How many rows were dropped in all."""


def row_checks() -> list[tuple[str, pl.Expr]]:
    """Each rule a single row must obey: a description and an expression true for bad rows."""
    checks = [
        (
            f"with a NaN, infinite or non-positive {c}",
            pl.col(c).is_null() | ~pl.col(c).is_finite() | (pl.col(c) <= 0),
        )
        for c in ("close", "open", "high", "low")  # the close first: the others may derive from it
    ]
    checks.extend(
        (
            f"with a {c} below {MIN_PRICE:g} or above {MAX_PRICE:g}",
            (pl.col(c) < MIN_PRICE) | (pl.col(c) > MAX_PRICE),
        )
        for c in ("close", "open", "high", "low")
    )
    checks.append(
        (
            f"timed before {FIRST_TIME.year} or from {END_TIME.year} on",
            (pl.col("timestamp") < FIRST_TIME) | (pl.col("timestamp") >= END_TIME),
        )
    )
    checks.append(
        (
            "with a missing, infinite or negative volume",
            pl.col("volume").is_null() | ~pl.col("volume").is_finite() | (pl.col("volume") < 0),
        )
    )
    checks.append(
        (
            "where high is below open/close or low above them",
            (pl.col("high") < pl.max_horizontal("open", "close"))
            | (pl.col("low") > pl.min_horizontal("open", "close")),
        )
    )
    return checks


def bar_problem(bar: Bar) -> str | None:
    """What in one bar breaks the rules ``row_checks`` holds every table to, in its words
    (``with a NaN, infinite or non-positive close``), or ``None``: for bars that come one
    request at a time (Alpaca's market data), where a table's checks would cost more than the
    bar. Prices first, the close before the others, then the time, the volume, the range."""
    prices = (("close", bar.close), ("open", bar.open), ("high", bar.high), ("low", bar.low))
    for name, price in prices:
        if not math.isfinite(price) or price <= 0:
            return f"with a NaN, infinite or non-positive {name}"
    for name, price in prices:
        if price < MIN_PRICE or price > MAX_PRICE:
            return f"with a {name} below {MIN_PRICE:g} or above {MAX_PRICE:g}"
    if not FIRST_TIME <= bar.timestamp < END_TIME:
        return f"timed before {FIRST_TIME.year} or from {END_TIME.year} on"
    if not math.isfinite(bar.volume) or bar.volume < 0:
        return "with a missing, infinite or negative volume"
    if bar.high < max(bar.open, bar.close) or bar.low > min(bar.open, bar.close):
        return "where high is below open/close or low above them"
    return None


def normalize_bars(
    frame: pl.DataFrame | pl.LazyFrame,
    source: str,
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    keep: Sequence[str] = (),
) -> pl.DataFrame:
    """Check a bar table and return it with UTC timestamps and float prices, in file order.

    Raises ``MarketDataError`` for a missing column, a timestamp that does not parse, NaN, null,
    infinite or non-positive prices, negative volume, a high below open/close or a low above
    them, or timestamps that are unsorted or repeated within a symbol. ``prepare`` (a replay
    file's reader: blank rows, adjusted prices, descending order, derived columns) runs on the
    typed table before the checks; ``keep`` names extra numeric columns it needs.

    A ``LazyFrame`` (a file scan) is read straight into the typed columns, and every check is
    counted in one pass over the result, so a long file costs one typed copy of its columns,
    not one per check (issue 17: a 1,000,000-row file peaked at ~370 MB).
    """
    lazy = frame.lazy()
    schema = lazy.collect_schema()
    _check_columns(schema.names(), source, keep)
    sample = None
    if schema["timestamp"] == pl.Utf8 or schema["timestamp"].is_numeric():
        sample = lazy.select("timestamp").head(SAMPLE_ROWS).collect().to_series()
    try:
        exprs = _typed_exprs(schema, source, keep, sample)
    except MarketDataError:
        if lazy.select(pl.len()).collect().item() == 0:
            raise MarketDataError(f"{source}: no rows") from None
        raise
    typed = lazy.select(*REQUIRED_COLUMNS, *keep).with_columns(*exprs).collect(engine="streaming")
    if typed.height == 0:
        raise MarketDataError(f"{source}: no rows")
    if prepare is not None:
        typed = prepare(typed)
        if typed.height == 0:
            raise MarketDataError(f"{source}: no rows with prices")
    checks = [(UNREADABLE, pl.col("timestamp").is_null()), *row_checks()]
    counts = typed.select(*[bad.sum().alias(str(i)) for i, (_d, bad) in enumerate(checks)])
    for (description, bad), count in zip(checks, counts.row(0), strict=True):
        if count:
            where = (
                first_unreadable(lazy, exprs[1], PRICE_COLUMNS)
                if description == UNREADABLE
                else _first_bad(typed, bad)
            )
            raise MarketDataError(f"{source}: {count} row(s) {description}{where}")
    duplicated, unsorted = _step_counts(typed)
    if duplicated:
        repeated = typed.filter(pl.struct("symbol", "timestamp").is_duplicated())
        raise MarketDataError(
            f"{source}: {duplicated} duplicated timestamp(s) within a symbol"
            f"{_first_bad(repeated, pl.lit(True))}"
        )
    if unsorted:
        raise MarketDataError(f"{source}: timestamps are not sorted ({unsorted} step(s) go back)")
    return typed


FEW_SYMBOLS = 16
"""Up to this many symbols a file's time order is checked one symbol at a time (the leanest in
memory); past it in one group-by (each symbol's pass reads the whole column)."""


def _first_bad(frame: pl.DataFrame, bad: pl.Expr) -> str:
    """When the first bad row is, for a message: ``, the first at 2020-01-07`` (nothing when
    its own time is unreadable)."""
    first = frame.select(pl.col("timestamp").filter(bad).first()).item()
    if first is None:
        return ""
    shown = first.date() if first.time() == first.min.time() else first
    return f", the first at {shown}"


def _step_counts(frame: pl.DataFrame) -> tuple[int, int]:
    """How many steps within a symbol repeat a timestamp, and how many go back.

    Few symbols: one at a time over the timestamp column alone (a window over the symbols,
    ``diff().over("symbol")``, costs more than a copy of the table on a long file). Many: one
    group-by, as each pass reads the whole column (500 symbols of 6,000 bars took 31 s, a file
    of 100,000 symbols 90 s); it holds about a third of the table's size for a moment."""
    zero = pl.duration(seconds=0)
    symbols = frame.get_column("symbol").unique().to_list()
    if len(symbols) > FEW_SYMBOLS:
        step = pl.col("timestamp").diff()
        counts = frame.group_by("symbol").agg((step == zero).sum(), (step < zero).sum().alias("b"))
        same, back = counts.select(pl.col("timestamp").sum(), pl.col("b").sum()).row(0)
        return int(same), int(back)
    duplicated = unsorted = 0
    for symbol in symbols:
        mine = pl.col("symbol").is_null() if symbol is None else pl.col("symbol") == symbol
        step = pl.col("timestamp").filter(mine).diff()
        same, back = frame.select((step == zero).sum(), (step < zero).sum().alias("back")).row(0)
        duplicated += same
        unsorted += back
    return duplicated, unsorted


def clean_bars(frame: pl.DataFrame, source: str, keep: Sequence[str] = ()) -> CleanBars:
    """Drop the bad rows of a downloaded table and say how many, one line per kind of problem.

    Returns the table sorted by symbol and timestamp with one row per (symbol, timestamp): of
    repeated timestamps the last row wins (a newer download replaces an older one). ``keep``
    names extra columns to carry along (for example ``adj_close``). A missing required column
    still raises ``MarketDataError``: there is nothing to clean in a table of the wrong shape.
    An empty table is returned as is.
    """
    frame = _typed(frame, source, keep, allow_empty=True)
    problems: list[str] = []
    dropped = 0
    checks = [(UNREADABLE, pl.col("timestamp").is_null()), *row_checks()]
    for description, bad in checks:
        count = frame.filter(bad).height
        if count:
            problems.append(f"{source}: dropped {count} row(s) {description}")
            dropped += count
            frame = frame.filter(~bad)
    before = frame.height
    frame = frame.unique(subset=["symbol", "timestamp"], keep="last", maintain_order=True).sort(
        "symbol", "timestamp"
    )
    if frame.height < before:
        problems.append(
            f"{source}: dropped {before - frame.height} row(s) with a duplicated timestamp"
        )
        dropped += before - frame.height
    return CleanBars(frame, problems, dropped)


def _typed(
    frame: pl.DataFrame, source: str, keep: Sequence[str], allow_empty: bool = False
) -> pl.DataFrame:
    """The required (and kept) columns, with upper-case symbols, UTC timestamps, float numbers."""
    _check_columns(frame.columns, source, keep)
    if frame.height == 0 and not allow_empty:
        raise MarketDataError(f"{source}: no rows")
    exprs = _typed_exprs(frame.schema, source, keep)
    return frame.select(*REQUIRED_COLUMNS, *keep).with_columns(*exprs)


def _check_columns(columns: Sequence[str], source: str, keep: Sequence[str]) -> None:
    """Refuse a table without the required (and kept) columns."""
    missing = [c for c in (*REQUIRED_COLUMNS, *keep) if c not in columns]
    if missing:
        raise MarketDataError(f"{source}: missing column(s) {', '.join(missing)}")


def _typed_exprs(
    schema: pl.Schema, source: str, keep: Sequence[str], sample: pl.Series | None = None
) -> list[pl.Expr]:
    """Upper-case symbols, UTC timestamps and float numbers, as expressions (``sample``: the
    first values of a text or numeric time column, to tell how it is written)."""
    numbers = (*PRICE_COLUMNS, "volume", *keep)
    symbol = pl.col("symbol").cast(pl.Utf8).str.strip_chars()
    return [
        # ASCII only is upper-cased: 'ßpy' would be 'SSPY' and 'ıwm' 'IWM', tickers the file
        # does not hold; kept as written, the ticker check refuses them
        pl.when(symbol.str.contains(r"^[\x00-\x7f]*$"))
        .then(symbol.str.to_uppercase())
        .otherwise(symbol)
        .alias("symbol"),
        utc_timestamps(schema["timestamp"], sample, source),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in numbers],
    ]
