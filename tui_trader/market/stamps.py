"""Turning a bar file's time column into UTC datetimes, whatever way the file writes it.

ISO text (``2020-01-02``, ``2020-01-02 09:30:00-05:00``, ``...Z``) is parsed as it always was
(a naive time is taken as UTC). Other spellings are recognised from a sample of the column: dates
like ``02.01.2020``, ``01/02/2020`` or ``Jan 02, 2020``, ``20200102`` (as text or a number), and
epoch seconds, milliseconds, microseconds or nanoseconds. A slashed date is read day-first or
month-first only when the sample shows which (a day above 12); when it cannot tell, the file is
refused rather than read a month wrong.
"""

from __future__ import annotations

import re

import polars as pl

from tui_trader.market import MarketDataError

SAMPLE_ROWS = 1_000
"""Values of the time column looked at to choose how to read it."""
_ISO = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
_DATES = (
    "%Y%m%d",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d/%m/%y",
    "%m/%d/%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
)
"""Date spellings tried on the sample, in order (day-first before month-first)."""
_TIMES = ("", " %H:%M", " %H:%M:%S", " %H:%M:%S%.f", " %H%M%S", "T%H:%M:%S", "T%H:%M")
_EPOCH_UNITS = ((1e11, "s"), (1e14, "ms"), (1e17, "us"))
"""Largest magnitude per unit: seconds reach 1e11 only in the year 5138."""


def utc_timestamps(dtype: pl.DataType, sample: pl.Series | None, source: str) -> pl.Expr:
    """An expression turning the ``timestamp`` column into UTC datetimes (unparsable: null).

    ``sample`` holds the first values of the column (None: the column is not read ahead, as
    for a download's datetimes)."""
    col = pl.col("timestamp")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if isinstance(dtype, pl.Date):
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if dtype == pl.Null:
        return col.cast(pl.Datetime("us", "UTC"))
    values = sample.drop_nulls() if sample is not None else None
    if dtype.is_numeric() and values is not None:
        return _numeric(values, source)
    if dtype == pl.Utf8:
        if values is not None and len(values) and not _ISO.match(str(values[0])):
            chosen = _format_of(values.str.strip_chars(), source)
            if chosen is not None:
                return (
                    col.str.strip_chars()
                    .str.to_datetime(chosen, time_unit="us", strict=False)
                    .dt.replace_time_zone("UTC")
                )
        return col.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    raise MarketDataError(f"{source}: timestamp column has type {dtype}, expected text or datetime")


def _numeric(values: pl.Series, source: str) -> pl.Expr:
    """Dates as ``20200102``, or epoch seconds / ms / µs / ns told apart by their size."""
    col = pl.col("timestamp")
    if values.is_empty():
        return col.cast(pl.Datetime("us", "UTC"))
    if values.dtype.is_float() and not values.is_nan().any() and (values % 1 == 0).all():
        values = values.cast(pl.Int64)
    if values.dtype.is_integer() and bool(values.is_between(19_000_101, 21_001_231).all()):
        return (
            col.cast(pl.Int64)
            .cast(pl.Utf8)
            .str.to_datetime("%Y%m%d", time_unit="us", strict=False)
            .dt.replace_time_zone("UTC")
        )
    biggest = float(values.abs().max())  # type: ignore[arg-type]
    unit = next((u for limit, u in _EPOCH_UNITS if biggest < limit), "ns")
    if biggest < 1e8:  # before March 1973 in seconds: no epoch a price file would hold
        raise MarketDataError(
            f"{source}: the time column holds numbers ({values[0]}, ...) that are neither "
            "dates like 20200102 nor epoch seconds or milliseconds"
        )
    per_us = {"s": 1e6, "ms": 1e3, "us": 1.0, "ns": 1e-3}[unit]
    micros = (col.cast(pl.Float64) * per_us).round().cast(pl.Int64, strict=False)
    return pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")


def _format_of(values: pl.Series, source: str) -> str | None:
    """The one date(-time) format that reads every sampled value; None to let polars infer it.

    Day-first and month-first both reading the whole sample (no day above 12 in it) is refused,
    except for dotted dates, which are day-first wherever they are written."""
    fits = [date + time for date in _DATES for time in _TIMES if _reads(values, date + time)]
    if not fits:
        return None
    first = fits[0]
    swapped = _swap_day_month(first)
    if swapped != first and swapped in fits:
        raise MarketDataError(
            f"{source}: dates like {values[0]!r} can be read day-first or month-first and "
            "the file does not show which: write them as YYYY-MM-DD"
        )
    return first


def _reads(values: pl.Series, fmt: str) -> bool:
    """Whether ``fmt`` reads every value as a time between 1800 and 2200 (``%Y`` takes the
    ``20`` of ``20-Jan-20`` as the year 20)."""
    times = values.str.to_datetime(fmt, strict=False)
    if times.null_count():
        return False
    return bool(times.dt.year().is_between(1800, 2200).all())


def _swap_day_month(fmt: str) -> str:
    """``%d/%m/%Y`` as ``%m/%d/%Y`` and back (other formats unchanged)."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


_ZONE = r"(?:Z|[+-]\d{2}:?\d{2})\s*$"
"""A time written with its zone: ``...Z``, ``...+00:00``, ``...-0500``."""


def first_unreadable(raw: pl.LazyFrame, parsed: pl.Expr, prices: tuple[str, ...]) -> str:
    """Which row's time did not read, for a refusal: ``, the first at data row 18
    ('2024-01-18T14:30')``, counting data rows from 1; and, when the column mixes times written
    with a zone and without (polars reads the column one way, so the others fail), says so with
    one of each. Only a refusal pays this second pass over the file.

    ``raw`` is the table before typing, ``parsed`` the time expression typing used; rows without
    any of ``prices`` (dropped before the check as blank) are passed over when others fail."""
    text = pl.col("timestamp").cast(pl.Utf8).str.strip_chars()
    failed = raw.with_row_index("row").select(
        "row",
        text.alias("raw"),
        parsed.is_null().alias("bad"),
        pl.any_horizontal(*(pl.col(c).is_not_null() for c in prices)).alias("priced"),
    )
    rows = failed.filter(pl.col("bad")).select("row", "raw", "priced").collect()
    if rows.is_empty():
        return ""
    priced = rows.filter(pl.col("priced"))
    row, value = (priced if priced.height else rows).row(0)[:2]
    said = f", the first at data row {row + 1} ({repr(value[:40]) if value else 'empty'})"
    zoned = pl.col("raw").str.contains(_ZONE).fill_null(False)
    iso = pl.col("raw").str.contains(_ISO.pattern).fill_null(False)  # "soon" is no unzoned time
    kinds = (
        failed.filter(iso)
        .select(
            pl.col("raw").filter(zoned).first().alias("with"),
            pl.col("raw").filter(~zoned).first().alias("without"),
        )
        .collect()
        .row(0)
    )
    if kinds[0] is not None and kinds[1] is not None:
        said += (
            f"; the column mixes times with a zone ({kinds[0][:40]!r}) and without "
            f"({kinds[1][:40]!r}): write every time one way"
        )
    return said
