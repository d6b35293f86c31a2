"""Reading the column layouts price files come in, as our bar table.

Most price files found in the wild (spreadsheet exports, Yahoo's or stooq's CSV download, sample
data shipped with backtesting libraries) hold one symbol, name their columns in any case
(``Date``, ``DATE``, ``<DATE>``, ``Adj Close``), put the date in a column called ``Date``,
``Datetime``, ``Time``, ``Timestamp`` or in an unnamed first column, or split it over a date and
a time column. Such a file is read as the symbol named by its file name (``GOOG.csv`` is GOOG;
``^GSPC.csv`` is GSPC), so ``tui-trader paper --data replay:GOOG.csv`` and ``learn evaluate
--data GOOG.csv`` take it as it is. A file with a ``symbol`` (or ``ticker``) column holds several.

Only a close is required: a missing open is the close, a missing high or low the larger or
smaller of open and close, a missing volume 0 (``derive_missing``). Numbers written
as text (``"1,234,567"``, ``$12.50``, ``1.234,5`` in a decimal-comma file) are converted. A
one-symbol file with an adjusted close (Yahoo's ``Adj Close``) is read adjusted: open, high, low
and close are scaled by adjusted close over close, so splits and dividends are in the prices
(``adjust``). Anything else is left for ``normalize_bars`` to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

PRICES = ("open", "high", "low", "close")
ALIASES = {
    "timestamp": (
        "timestamp",
        "date",
        "datetime",
        "time",
        "",
        "unnamed 0",
        "date time",
        "gmt time",
        "local time",
        "index level 0",
    ),
    "symbol": ("symbol", "ticker"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close", "close/last", "price", "last"),
    "volume": ("volume", "vol"),
    "adj_close": ("adj close", "adj_close", "adjusted close", "adjclose"),
}
"""Column names (lower case, punctuation as spaces) each of our columns is read from, in order
of preference; ``timestamp``'s list keeps the order the one-symbol reader always used."""
NUMBER_COLUMNS = ("open", "high", "low", "close", "volume", "adj_close")
MISSING_WORDS = ("null", "NULL", "NaN", "nan", "N/A", "#N/A")
"""Cell texts that mean "no value" (Yahoo writes ``null``; spreadsheets ``#N/A``)."""
ADJUST_NOTE_AT = 0.01
"""An adjustment factor differing from 1 by more than this is said in a note."""


@dataclass(frozen=True, slots=True)
class Layout:
    """What the file's columns say about how to read it."""

    missing: tuple[str, ...] = ()
    """Our columns the file lacks, derived from the closes (``derive_missing``)."""
    adjusted: bool = False
    """The file has an adjusted close: prices are scaled by it (``adjust``)."""
    mapped: bool = True
    """False: no time or no close column was found, the frame is as the file has it."""


def column_key(name: str) -> str:
    """A column name compared loosely: lower case, punctuation and underscores as one space."""
    return re.sub(r"[^a-z0-9/]+", " ", name.lower()).strip()


def file_symbol(stem: str) -> str:
    """The ticker a one-symbol file's name stands for: ``^GSPC`` is GSPC, ``spy daily`` is
    SPY-DAILY (upper case, other characters as ``-``, at most 10, starting with a letter)."""
    text = re.sub(r"[^A-Z0-9.\-]+", "-", stem.upper())
    text = re.sub(r"^[^A-Z]+", "", text)[:10].strip("-.")
    return text or "DATA"


_NAMED = {"timestamp": "time", "adj_close": "adjusted close"}
"""How a refusal names our columns whose name is no plain word."""


_POLARS_COPY = re.compile(r"_duplicated_\d+$")
"""The suffix polars gives the second and later columns of one name in a CSV header."""


def doubled_column(names: list[str]) -> str | None:
    """Why a file's columns cannot be read without a guess, or None: two of them are read as one
    of ours (``symbol`` and ``Symbol``, ``ticker`` and ``symbol``, ``Close`` and ``Price``). The
    first one found was taken silently, so a replay could trade the other column's symbols or
    prices. A time is the exception: ``Date`` with ``Time`` is a split time, and a ``timestamp``
    beside a ``date`` is taken first as always; only two columns under the same name are
    refused. So is a name the header line holds twice (``close,close``), which polars reads as
    ``close`` and ``close_duplicated_0``."""
    written = {c: _POLARS_COPY.sub("", c) for c in names}
    keys = {c: column_key(written[c]) for c in names}
    for ours, aliases in ALIASES.items():
        if ours == "timestamp":
            first = next((a for a in aliases if a in keys.values()), None)
            same = [written[c] for c, k in keys.items() if k == first]
        else:
            same = [written[c] for c, k in keys.items() if k in aliases]
        if len(same) > 1:
            what = _NAMED.get(ours, ours)
            return (
                f"two columns hold the {what}: {same[0]!r} and {same[1]!r}; remove or rename "
                "one (which is meant is not for the reader to guess)"
            )
    return None


def as_bar_table(frame: Frame, symbol: str, decimal_comma: bool = False) -> tuple[Frame, Layout]:
    """The frame with our column names and numbers as numbers, and its ``Layout``; unchanged,
    with ``Layout.mapped`` False, when it has no time or no close column (the reader says which).

    A ``LazyFrame`` (a file scan not read yet) stays lazy."""
    schema = frame.collect_schema()
    keys = {c: column_key(c) for c in schema.names()}
    found: dict[str, str] = {}
    for ours, aliases in ALIASES.items():
        for alias in aliases:
            match = next((c for c, k in keys.items() if k == alias), None)
            if match is not None:
                found[ours] = match
                break
    if "timestamp" not in found or "close" not in found:
        return frame, Layout(mapped=False)
    exprs = [_time_expr(found, keys, schema)]
    exprs.append(
        pl.col(found["symbol"]).alias("symbol")
        if "symbol" in found
        else pl.lit(file_symbol(symbol)).alias("symbol")
    )
    missing = []
    for ours in (*PRICES, "volume", "adj_close"):
        if ours in found:
            number = _number(found[ours], schema[found[ours]], decimal_comma, ours == "volume")
            exprs.append(number.alias(ours))
        elif ours != "adj_close":
            missing.append(ours)
            exprs.append(pl.lit(None, pl.Float64).alias(ours))
    adjusted = "adj_close" in found and "symbol" not in found
    table = frame.select(exprs)
    if "adj_close" in found and not adjusted:
        table = table.drop("adj_close")
    return table, Layout(tuple(missing), adjusted)


def _time_expr(found: dict[str, str], keys: dict[str, str], schema: pl.Schema) -> pl.Expr:
    """The time column, or a date and a separate time column joined as ``DATE TIME`` text (a
    time written as a number, ``93000``, padded to ``093000``)."""
    name = found["timestamp"]
    time_col = next((c for c, k in keys.items() if k == "time"), None)
    if keys[name] != "date" or time_col is None:
        return pl.col(name).alias("timestamp")
    time = pl.col(time_col).cast(pl.Utf8).str.strip_chars()
    if schema[time_col].is_integer():
        time = time.str.zfill(6)
    return pl.concat_str(pl.col(name).cast(pl.Utf8).str.strip_chars(), time, separator=" ").alias(
        "timestamp"
    )


def _number(name: str, dtype: pl.DataType, decimal_comma: bool, volume: bool = False) -> pl.Expr:
    """A numeric column as floats; text is cleaned first (thousands separators, currency signs,
    spaces; ``1.234,5`` in a decimal-comma file). What still is no number becomes null. A
    volume may be written ``1.23M`` or ``450K`` (investing.com) or ``-`` (none: 0)."""
    col = pl.col(name)
    if dtype != pl.Utf8:
        return col.cast(pl.Float64, strict=False)
    text = col.str.strip_chars()
    if decimal_comma:
        text = text.str.replace_all(r"[.\s'$€£]", "").str.replace(",", ".", literal=True)
    else:
        text = text.str.replace_all(r"[,\s'$€£]", "")
    if not volume:
        return text.cast(pl.Float64, strict=False)
    scale = (
        pl.when(text.str.ends_with("K"))
        .then(1e3)
        .when(text.str.ends_with("M"))
        .then(1e6)
        .when(text.str.ends_with("B"))
        .then(1e9)
        .otherwise(1.0)
    )
    digits = text.str.strip_chars_end("KMB").cast(pl.Float64, strict=False)
    return pl.when(text == "-").then(0.0).otherwise(digits * scale)


def blank_rows() -> pl.Expr:
    """True on a row without any price: Yahoo's ``null`` lines for days it has no data for."""
    return pl.all_horizontal(*(pl.col(c).is_null() for c in PRICES))


def adjust(frame: pl.DataFrame, source: str, notes: list[str]) -> pl.DataFrame:
    """Prices scaled by adjusted close over close (splits and dividends in the prices), the
    ``adj_close`` column dropped; a note when the factor moves off 1 noticeably."""
    factor = pl.col("adj_close") / pl.col("close")
    low, high = frame.select(factor.min().alias("low"), factor.max().alias("high")).row(0)
    if low is not None and (abs(low - 1) > ADJUST_NOTE_AT or abs(high - 1) > ADJUST_NOTE_AT):
        notes.append(
            f"{source}: prices adjusted by its Adj Close (splits and dividends), factor "
            f"{low:.3g} to {high:.3g}"
        )
    return frame.with_columns(*(pl.col(c) * factor for c in PRICES)).drop("adj_close")


def derive_missing(frame: pl.DataFrame, missing: tuple[str, ...]) -> pl.DataFrame:
    """Fill the columns a file lacks from its closes: open = the close (a close-only bar is
    open = high = low = close, as the held-out closes-only series of docs/learning.md were
    converted, so a decision at one close fills at the next close), high / low = the larger /
    smaller of open and close, volume = 0."""
    if "open" in missing:
        frame = frame.with_columns(pl.col("close").alias("open"))
    if "high" in missing:
        frame = frame.with_columns(pl.max_horizontal("open", "close").alias("high"))
    if "low" in missing:
        frame = frame.with_columns(pl.min_horizontal("open", "close").alias("low"))
    if "volume" in missing:
        frame = frame.with_columns(pl.lit(0.0).alias("volume"))
    return frame
