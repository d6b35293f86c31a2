"""vectorbt's ``Portfolio.from_signals`` (numba) running the benchmark's crossover rule.

The rule as signals: long while SMA(10) > SMA(30) of the closes (vectorbt's own ``MA``), from
the bar after the warm-up; each signal executes at the next bar's open (signals shifted by a
bar, ``price=open``), whole shares (``size_granularity=1``), no costs, all-in (``size=inf``:
every share the cash buys). One symbol only: ``from_signals`` sizes a position when it opens
(in amount, value or percent of cash, not of the portfolio's value) and never rebalances it, so
the several-symbol rule (each symbol a share of equity, drifted positions rebalanced) is not a
signal portfolio. Numba compiles vectorbt's kernels
on first use, in every new process: ``seconds`` includes that, since a user waits for it.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.data import Series
from benchmarks.engines import FAST, SLOW, START_CASH, WARMUP, Outcome


def vectorbt_run(universe: list[Series]) -> Outcome:
    """The rule as one ``from_signals`` portfolio of one symbol; trades and final equity."""
    import pandas as pd
    import vectorbt as vbt

    start = time.perf_counter()
    if len(universe) != 1:
        raise ValueError("the vectorbt peer runs one symbol (see the module docstring)")
    index = pd.to_datetime(universe[0].ts_us, unit="us", utc=True)
    names = [s.symbol for s in universe]
    close = pd.DataFrame(np.column_stack([s.close for s in universe]), index=index, columns=names)
    open_ = pd.DataFrame(np.column_stack([s.open for s in universe]), index=index, columns=names)
    fast = vbt.MA.run(close, FAST, short_name="fast").ma.to_numpy()
    slow = vbt.MA.run(close, SLOW, short_name="slow").ma.to_numpy()
    with np.errstate(invalid="ignore"):
        up = fast > slow  # NaN (warming averages) compares False
    decide = np.arange(len(index)) >= WARMUP
    long_ = up & decide[:, None]
    flat = ~up & decide[:, None]
    entries = np.zeros_like(long_)
    exits = np.zeros_like(flat)
    entries[1:], exits[1:] = long_[:-1], flat[:-1]  # a bar's decision executes at the next open
    portfolio = vbt.Portfolio.from_signals(
        close,
        entries=pd.DataFrame(entries, index=index, columns=names),
        exits=pd.DataFrame(exits, index=index, columns=names),
        price=open_,
        init_cash=START_CASH,
        fees=0.0,
        size_granularity=1,
        accumulate=False,
        size=np.inf,
        freq="1min",
    )
    trades = int(portfolio.trades.closed.count().sum())
    equity = float(np.asarray(portfolio.value())[-1].sum())
    orders = int(portfolio.orders.count().sum())
    seconds = time.perf_counter() - start
    return Outcome(len(index), seconds, trades, equity, orders)
