"""Reading a user's bar file (CSV or Parquet) into a checked bar table, or refusing it in one line.

The pipeline: ``sniff`` tells Parquet from CSV text and how the text is written; polars scans
the file; ``as_bar_table`` maps its columns to ours; ``normalize_bars`` reads it into typed
columns and, after the preparation below, checks every row. Preparation, for files as sites
and spreadsheets write them:

- rows without any price (Yahoo's ``null`` days) are dropped, and counted in a note;
- an adjusted close scales the prices (``columns.adjust``);
- a file in descending time order (newest first, as many sites export) is reversed, with a note;
  any other disorder, and repeated times, are still refused;
- columns the file lacks are derived from the closes (``columns.derive_missing``).

Notes are one line each, for the caller to show (the session's report line, ``learn
evaluate``'s header); nothing is changed silently.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tui_trader.core.shown import shown_path
from tui_trader.core.symbols import TICKER_RULE, bad_symbols
from tui_trader.market import MarketDataError
from tui_trader.market.bar_jumps import odd_moves
from tui_trader.market.bar_path import not_a_bar_file
from tui_trader.market.columns import (
    ALIASES,
    MISSING_WORDS,
    NUMBER_COLUMNS,
    Layout,
    adjust,
    as_bar_table,
    blank_rows,
    column_key,
    derive_missing,
    doubled_column,
)
from tui_trader.market.sniff import FileKind, sniff
from tui_trader.market.time_range import times_in_range
from tui_trader.market.validate import normalize_bars


def read_bar_file(path: Path, notes: list[str] | None = None) -> pl.DataFrame:
    """Read and validate a CSV or Parquet bar file; raise ``MarketDataError`` naming the file.

    ``notes`` receives one line per change made while reading (dropped blank rows, adjusted
    prices, reversed order). The file is scanned, not read whole: only the bar columns are
    read, straight into their types, so the peak is about one typed copy of the table (issue
    17)."""
    source = shown_path(path)
    try:
        if not path.is_file():
            raise MarketDataError(f"{source}: {not_a_bar_file(path)}")
    except OSError as exc:  # a name longer than the file system allows, a loop of links
        raise MarketDataError(f"{source}: cannot open ({exc.strerror or exc})") from None
    kind = sniff(path)
    said: list[str] = [] if notes is None else notes
    try:
        # glob=False: polars reads a name as a pattern, so a file named '[ab].csv' was read as
        # a.csv and b.csv together (and 'x[bold]y.csv' as no file at all)
        scan = pl.scan_parquet(path, glob=False) if kind.parquet else _scan_csv(path, kind)
        stem = Path(path.stem).stem if path.suffix.lower() == ".gz" else path.stem
        doubled = doubled_column(scan.collect_schema().names())
        if doubled:
            raise MarketDataError(f"{source}: {doubled}")
        table, layout = as_bar_table(scan, stem, kind.decimal_comma)
        if not layout.mapped:
            raise MarketDataError(f"{source}: {_unmapped(table.collect_schema().names())}")
        _check_symbol_type(table.collect_schema()["symbol"], source)
        keep = ("adj_close",) if layout.adjusted else ()
        bars = normalize_bars(
            table, source, lambda typed: _prepare(typed, layout, source, said), keep
        )
        _check_symbols(bars, source)
        said.extend(odd_moves(bars, source))
        return bars
    except MarketDataError:
        raise
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "more fields than defined" in first_line:
            first_line = (
                "a row has more fields than the header line; a number with an unquoted "
                "thousands separator, or a separator inside an unquoted name?"
            )
        raise MarketDataError(f"{source}: cannot read ({first_line[:200]})") from exc


def _scan_csv(path: Path, kind: FileKind) -> pl.LazyFrame:
    """Scan a CSV file with its separator; numbers are read as floats.

    Polars guesses each column's type from the first 10,000 rows: a price column of whole
    numbers there is taken as integers, and a ``100.5`` or a Yahoo ``null`` further down would
    then fail the whole file. So the number columns found are read as floats, with the usual
    missing-value words as nulls (a decimal-comma file is read as text and converted)."""

    def scan(overrides: dict[str, pl.DataType] | None = None) -> pl.LazyFrame:
        return pl.scan_csv(
            path,
            separator=kind.separator,
            skip_rows=kind.skip_rows,
            try_parse_dates=False,
            infer_schema=not kind.decimal_comma,
            infer_schema_length=10_000,
            schema_overrides=overrides,
            null_values=None if kind.decimal_comma else list(MISSING_WORDS),
            low_memory=True,
            encoding="utf8-lossy" if kind.lossy else "utf8",
            glob=False,  # the file's own name, never a pattern
        )

    first = scan()
    if kind.decimal_comma:
        return first
    schema = first.collect_schema()
    numeric = {a for ours in NUMBER_COLUMNS for a in ALIASES[ours]}
    overrides: dict[str, pl.DataType] = {
        name: pl.Float64()
        for name, dtype in schema.items()
        if column_key(name) in numeric and dtype.is_integer()
    }
    overrides.update(  # symbols are text: TRUE (TrueCar) is no boolean, 1 no number
        {
            name: pl.String()
            for name, dtype in schema.items()
            if column_key(name) in ALIASES["symbol"] and dtype != pl.String
        }
    )
    return scan(overrides) if overrides else first


def _prepare(typed: pl.DataFrame, layout: Layout, source: str, notes: list[str]) -> pl.DataFrame:
    """Drop blank rows, adjust, put a newest-first file in time order, derive missing columns.
    Times Python cannot hold (past the year 9999: ``market.time_range``) are refused first."""
    if not times_in_range(typed.get_column("timestamp")):
        raise MarketDataError(f"{source}: time stamps outside the years 1 to 9999")
    blank = typed.select(blank_rows().sum()).item()
    if blank:
        typed = typed.filter(~blank_rows())
        notes.append(f"{source}: skipped {blank} row(s) without prices (empty or 'null')")
    if layout.adjusted:
        typed = adjust(typed, source, notes)
    if _newest_first(typed):
        typed = typed.reverse()
        notes.append(f"{source}: newest bar first; read in time order")
    missing = layout.missing
    if "volume" not in missing and typed.get_column("volume").null_count() == typed.height:
        missing = (*missing, "volume")  # an empty volume column (currencies): as if absent
    if missing:
        typed = derive_missing(typed, missing)
    return typed


def _unmapped(columns: list[str]) -> str:
    """Which of the time and close columns a file lacks, with the columns it has."""
    keys = {column_key(c) for c in columns}
    lacking = [
        what
        for what, ours in (("a date or timestamp", "timestamp"), ("close", "close"))
        if not keys & set(ALIASES[ours])
    ]
    shown = ", ".join(repr(c) for c in columns[:8]) + (", ..." if len(columns) > 8 else "")
    return (
        f"missing column(s) {' and '.join(lacking)} (it has {shown}); a bar file needs a date "
        "or timestamp and a close (open, high, low, volume and symbol are optional)"
    )


def _newest_first(frame: pl.DataFrame) -> bool:
    """Whether every symbol's times strictly fall from row to row (a newest-first file)."""
    if frame.height < 2:
        return False
    first, last = frame.get_column("timestamp")[0], frame.get_column("timestamp")[-1]
    if first is None or last is None or not first > last:  # the usual file: one look
        return False
    step = pl.col("timestamp").diff().over("symbol")
    return bool(frame.select((step < pl.duration(seconds=0)).or_(step.is_null()).all()).item())


def _check_symbol_type(dtype: pl.DataType, source: str) -> None:
    """Refuse a symbol column that does not hold text (a Parquet column of numbers, booleans or
    only nulls): ``True`` was read as a symbol ``TRUE`` and traded."""
    if not isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        raise MarketDataError(
            f"{source}: the symbol column holds {dtype} values, not ticker symbols (text such "
            "as SPY)"
        )


def _check_symbols(frame: pl.DataFrame, source: str) -> None:
    """Refuse rows without a symbol and symbols that are not tickers (``core.symbols``' rule,
    the command line's): a replay crashed on a row with a null symbol, and ``learn evaluate``
    scored a file of symbols such as ``'SPY Y'`` or ``'1'`` without a word."""
    missing = frame.select((pl.col("symbol").is_null() | (pl.col("symbol") == "")).sum()).item()
    if missing:
        raise MarketDataError(f"{source}: {missing} row(s) without a symbol")
    wrong = bad_symbols(frame.get_column("symbol").unique(maintain_order=True).to_list())
    if wrong:
        raise MarketDataError(f"{source}: {wrong[0]!r} is not a ticker symbol ({TICKER_RULE})")
