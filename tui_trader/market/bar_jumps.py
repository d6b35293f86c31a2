"""Moves in a bar file that real prices rarely make: said, not refused.

Every bar of a replay file may pass ``market.validate``'s rules while the file as a whole is
wrong: a split not adjusted (the close 100 times the last one from one bar to the next), two
files of one symbol pasted together (a gap of years between two bars). Such a file was replayed
without a word, and the strategies traded the split as a crash or a rally. Both can be true
(a reverse split, a symbol that stopped trading for years), so the file is not refused: each
kind is said in one line, with the first place it happens, before the first bar.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

JUMP = 10.0
"""A close at least this many times the last one, or at most its inverse, is said."""
GAP = timedelta(days=365)
"""Bars further apart than this within a symbol are said."""


def odd_moves(frame: pl.DataFrame, source: str) -> list[str]:
    """One line per kind of odd move in a checked bar table (timestamps sorted within each
    symbol, prices positive), naming the first; none for a table without them."""
    last = pl.col("close").shift(1).over("symbol")
    step = pl.col("timestamp").diff().over("symbol")
    ratio = pl.col("close") / last
    marked = frame.select(
        "symbol",
        "timestamp",
        ((ratio >= JUMP) | (ratio <= 1 / JUMP)).fill_null(False).alias("jump"),
        (step > GAP).fill_null(False).alias("gap"),
        ratio.alias("ratio"),
        step.alias("step"),
    )
    notes = []
    jumps = marked.filter("jump")
    if jumps.height:
        symbol, when, times = jumps.select("symbol", "timestamp", "ratio").row(0)
        notes.append(
            f"{source}: {jumps.height} bar(s) whose close is {JUMP:g} times the last one or "
            f"less than 1/{JUMP:g} of it, the first {symbol} at {when:%Y-%m-%d %H:%M} "
            f"({times:.4g}x): a split not adjusted? the strategies trade it as a move"
        )
    gaps = marked.filter("gap")
    if gaps.height:
        symbol, when, step_ = gaps.select("symbol", "timestamp", "step").row(0)
        notes.append(
            f"{source}: {gaps.height} gap(s) of more than a year between two bars, the first "
            f"{symbol} from {when - step_:%Y-%m-%d} to {when:%Y-%m-%d} ({step_.days:,} days): "
            "two files pasted together?"
        )
    return notes
