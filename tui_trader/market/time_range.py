"""Whether a column of times holds only times Python's ``datetime`` can hold.

A bar file or a cache file whose int64 times lie past the year 9999 (flipped bits, another
program's numbers read as microseconds) is a valid Parquet table of the right types, but polars
cannot hand such a time to Python: it panicked (``PanicException``, no ``Exception``: exit 1, a
Rust backtrace) or raised ``OverflowError`` deep in a session. Judged on the raw numbers, before
any time is handed over.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

_PER_SECOND = {"ns": 1_000_000_000, "us": 1_000_000, "ms": 1_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FIRST_S = int((datetime(1, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds())
_END_S = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH).total_seconds()) + 1
"""Python's ``datetime`` range, in seconds from 1970 (the end: just past its last second)."""
_ZONE_MARGIN_S = 86_400
"""Kept from each end for times in another zone than UTC (or none): shown in it, they move."""


def times_in_range(stamps: pl.Series) -> bool:
    """Whether every time in ``stamps`` (a polars ``Datetime`` column) is one Python can hold,
    judged on the raw numbers: a time past the year 9999 (flipped bits in a file) made polars
    panic as it handed it over (``PanicException``, no ``Exception``: exit 1, a Rust backtrace)
    in ``data list``, ``data clear`` and a session reading the file."""
    raw = stamps.cast(pl.Int64).drop_nulls()
    if raw.is_empty():
        return True
    per_second = _PER_SECOND[getattr(stamps.dtype, "time_unit", None) or "us"]
    margin = 0 if getattr(stamps.dtype, "time_zone", None) == "UTC" else _ZONE_MARGIN_S
    low, high = int(raw.min()), int(raw.max())  # type: ignore[arg-type]
    first, end = (_FIRST_S + margin) * per_second, (_END_S - margin) * per_second
    return first <= low and high < end
