"""Checks that every bar table must pass before anything trades on it.

Shared by every adapter that reads bars in bulk (replay files, caches, downloads). A table that
fails gets an error naming where it came from and what is wrong, in words a user can act on.
"""

from __future__ import annotations

import polars as pl

from tui_trader.market import MarketDataError

REQUIRED_COLUMNS = ("timestamp", "symbol", "open", "high", "low", "close", "volume")
PRICE_COLUMNS = ("open", "high", "low", "close")


def normalize_bars(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    """Check a bar table and return it with UTC timestamps and float prices, in file order.

    Raises ``MarketDataError`` for a missing column, a timestamp that does not parse, NaN, null
    or non-positive prices, negative volume, a high below open/close or a low above them, or
    timestamps that are unsorted or repeated within a symbol.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise MarketDataError(f"{source}: missing column(s) {', '.join(missing)}")
    if frame.height == 0:
        raise MarketDataError(f"{source}: no rows")
    frame = frame.select(REQUIRED_COLUMNS).with_columns(
        pl.col("symbol").cast(pl.Utf8).str.strip_chars().str.to_uppercase(),
        _utc_timestamps(frame.schema["timestamp"], source),
        *[pl.col(c).cast(pl.Float64, strict=False) for c in (*PRICE_COLUMNS, "volume")],
    )
    bad_ts = frame.filter(pl.col("timestamp").is_null()).height
    if bad_ts:
        raise MarketDataError(f"{source}: {bad_ts} row(s) with an unreadable timestamp")
    for column in PRICE_COLUMNS:
        bad = frame.filter(
            pl.col(column).is_null() | pl.col(column).is_nan() | (pl.col(column) <= 0)
        ).height
        if bad:
            raise MarketDataError(f"{source}: {bad} row(s) with a NaN or non-positive {column}")
    bad_volume = frame.filter(
        pl.col("volume").is_null() | pl.col("volume").is_nan() | (pl.col("volume") < 0)
    ).height
    if bad_volume:
        raise MarketDataError(f"{source}: {bad_volume} row(s) with a missing or negative volume")
    inconsistent = frame.filter(
        (pl.col("high") < pl.max_horizontal("open", "close"))
        | (pl.col("low") > pl.min_horizontal("open", "close"))
    ).height
    if inconsistent:
        raise MarketDataError(
            f"{source}: {inconsistent} row(s) where high is below open/close or low above them"
        )
    steps = frame.with_columns(pl.col("timestamp").diff().over("symbol").alias("_step")).filter(
        pl.col("_step").is_not_null()
    )
    duplicated = steps.filter(pl.col("_step") == pl.duration(seconds=0)).height
    if duplicated:
        raise MarketDataError(f"{source}: {duplicated} duplicated timestamp(s) within a symbol")
    unsorted = steps.filter(pl.col("_step") < pl.duration(seconds=0)).height
    if unsorted:
        raise MarketDataError(f"{source}: timestamps are not sorted ({unsorted} step(s) go back)")
    return frame


def _utc_timestamps(dtype: pl.DataType, source: str) -> pl.Expr:
    """An expression turning the timestamp column (text or datetime) into UTC datetimes."""
    col = pl.col("timestamp")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return col.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    if isinstance(dtype, pl.Date):
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    if dtype == pl.Utf8:
        return col.str.to_datetime(time_unit="us", time_zone="UTC", strict=False).alias("timestamp")
    raise MarketDataError(f"{source}: timestamp column has type {dtype}, expected text or datetime")
