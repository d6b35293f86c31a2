"""Whole-history versions of the strategies in polars, for evaluation and cross-checks.

Each function takes a frame with ``symbol`` and ``close`` columns in time order per symbol and
returns it with one target column added, computed over each symbol separately. They mirror the
incremental strategies exactly (same windows, population standard deviations, same warm-up), and
a test holds them to it.
"""

from __future__ import annotations

import polars as pl

from tui_trader.strategies.crossover import MovingAverageCrossover
from tui_trader.strategies.mean_reversion import MeanReversion
from tui_trader.strategies.momentum import Momentum
from tui_trader.strategies.volatility import VolatilityTargeted

_CLOSE = pl.col("close")


def _short_or_flat(allow_short: bool) -> pl.Expr:
    """The target when a long-only strategy would be flat."""
    return pl.lit(-1.0 if allow_short else 0.0)


def trend_targets(frame: pl.DataFrame, s: MovingAverageCrossover) -> pl.DataFrame:
    """Crossover targets: +1 while SMA(fast) > SMA(slow)."""
    fast = _CLOSE.rolling_mean(s.fast).over("symbol")
    slow = _CLOSE.rolling_mean(s.slow).over("symbol")
    target = (
        pl.when(slow.is_null())
        .then(0.0)
        .when(fast > slow)
        .then(1.0)
        .otherwise(_short_or_flat(s.allow_short))
    )
    return frame.with_columns(target.alias(s.name))


def momentum_targets(frame: pl.DataFrame, s: Momentum) -> pl.DataFrame:
    """Momentum targets: +1 while the ``lookback`` rate of change beats the threshold."""
    roc = (_CLOSE / _CLOSE.shift(s.lookback) - 1.0).over("symbol")
    short = -1.0 if s.allow_short else 0.0
    target = (
        pl.when(roc.is_null())
        .then(0.0)
        .when(roc > s.threshold)
        .then(1.0)
        .when(roc < -s.threshold)
        .then(short)
        .otherwise(0.0)
    )
    return frame.with_columns(target.alias(s.name))


def meanrev_targets(frame: pl.DataFrame, s: MeanReversion) -> pl.DataFrame:
    """Mean-reversion targets from the rolling z-score of the close."""
    mean = _CLOSE.rolling_mean(s.window).over("symbol")
    std = _CLOSE.rolling_std(s.window, ddof=0).over("symbol")
    z = pl.when(std > 0).then((_CLOSE - mean) / std).otherwise(0.0)
    e = s.entry
    long = pl.min_horizontal(pl.lit(1.0), -z / (2 * e))
    short = -pl.min_horizontal(pl.lit(1.0), z / (2 * e)) if s.allow_short else pl.lit(0.0)
    target = (
        pl.when(mean.is_null())
        .then(0.0)
        .when(z < -e)
        .then(long)
        .when(z > e)
        .then(short)
        .otherwise(0.0)
    )
    return frame.with_columns(target.alias(s.name))


def volatility_targets(frame: pl.DataFrame, s: VolatilityTargeted) -> pl.DataFrame:
    """Volatility-aware trend targets: direction from SMA(trend), size from the vol ratio."""
    ret = (_CLOSE / _CLOSE.shift(1)).log().over("symbol")
    framed = frame.with_columns(ret.alias("_ret"))
    r = pl.col("_ret")
    short_vol = r.rolling_std(s.short, ddof=0).over("symbol")
    long_vol = r.rolling_std(s.long, ddof=0).over("symbol")
    sma = _CLOSE.rolling_mean(s.trend).over("symbol")
    size = pl.when(short_vol > 0).then(pl.min_horizontal(pl.lit(1.0), long_vol / short_vol))
    size = size.otherwise(1.0)
    target = (
        pl.when(sma.is_null() | long_vol.is_null())
        .then(0.0)
        .when(sma < _CLOSE)
        .then(size)
        .otherwise(-size if s.allow_short else pl.lit(0.0))
    )
    return framed.with_columns(target.alias(s.name)).drop("_ret")


def all_targets(frame: pl.DataFrame, strategies: list) -> pl.DataFrame:
    """Add one target column per strategy of the family (by type) to ``frame``."""
    makers = {
        MovingAverageCrossover: trend_targets,
        Momentum: momentum_targets,
        MeanReversion: meanrev_targets,
        VolatilityTargeted: volatility_targets,
    }
    for strategy in strategies:
        frame = makers[type(strategy)](frame, strategy)
    return frame
