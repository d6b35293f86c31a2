"""Reading the common one-symbol OHLCV layout (``Date,Open,High,Low,Close[,Adj Close],Volume``).

Most price files found in the wild (spreadsheet exports, Yahoo's CSV download, sample data shipped
with backtesting libraries) hold one symbol, name their columns in title case and put the date in
a column called ``Date`` or in an unnamed first column. Such a file is read as the symbol named
by its file name, so ``tui-trader paper --data replay:GOOG.csv`` and ``learn evaluate --data
GOOG.csv`` take it as it is. Anything else is left for ``normalize_bars`` to judge.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

_NAMES = {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume"}
_TIME_NAMES = ("timestamp", "date", "datetime", "time", "")


def as_bar_table(frame: Frame, symbol: str) -> Frame:
    """The frame with our column names if it is a one-symbol OHLCV table, else unchanged (a
    ``LazyFrame``, a file scan not read yet, stays lazy)."""
    lowered = {c: c.strip().lower() for c in frame.collect_schema().names()}
    if "symbol" in lowered.values():
        return frame
    present = set(lowered.values())
    if not set(_NAMES) <= present:
        return frame
    time_col = next(
        (c for name in _TIME_NAMES for c, low in lowered.items() if low == name),
        None,
    )
    if time_col is None:
        return frame
    renamed = {c: _NAMES[low] for c, low in lowered.items() if low in _NAMES}
    renamed[time_col] = "timestamp"
    return (
        frame.rename(renamed)
        .select("timestamp", *_NAMES.values())
        .with_columns(pl.lit(symbol.upper()).alias("symbol"))
    )
