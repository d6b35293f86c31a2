"""The same crossover strategy run by each engine over the same bars; each returns its outcome.

The rule every engine follows (ours defines it): on each bar, once the warm-up bars are past, the
target is long while SMA(10) of the closes is above SMA(30), else flat; the wanted quantity is
``trunc(target * equity * allocation / close)`` whole shares, the order is the difference with
what is held (plus what is on its way), a rebalance worth less than ``min_trade`` of equity is
skipped unless it closes the position, and market orders fill at the next bar's open, no costs.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.data import Series

START_CASH = 1_000_000.0
FAST, SLOW = 10, 30
WARMUP = 390
"""Warm-up bars (one trading day of 1-minute bars: our ReplayMarket's ``--period 1d``)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one engine made of the data, and how long it took."""

    bars: int
    seconds: float
    trades: int
    final_equity: float
    orders: int = 0
    note: str = ""


def rules(symbols: int) -> tuple[float, float]:
    """(allocation per symbol, min_trade as a fraction of equity) for ``symbols`` symbols."""
    if symbols == 1:
        return 1.0, 0.01
    return 1.0 / symbols, 0.005


# -- a plain per-bar loop: the floor for an event-driven design ------------------------------


def plain_loop(universe: list[Series]) -> Outcome:
    """The rule in one Python loop over rows: no objects, no audit; the event-driven floor."""
    start = time.perf_counter()
    n_sym = len(universe)
    alloc, min_trade = rules(n_sym)
    cols = [(s.open.tolist(), s.close.tolist()) for s in universe]
    n = len(universe[0])
    cash = START_CASH
    held = [0] * n_sym
    pending = [0] * n_sym
    entry = [0.0] * n_sym
    fast = [deque() for _ in range(n_sym)]
    slow = [deque() for _ in range(n_sym)]
    fsum = [0.0] * n_sym
    ssum = [0.0] * n_sym
    last = [0.0] * n_sym
    trades = orders = 0
    for i in range(n):
        for k in range(n_sym):
            q = pending[k]
            if q:
                price = cols[k][0][i]
                cash -= q * price
                if held[k] == 0:
                    entry[k] = price
                elif held[k] + q == 0:
                    trades += 1
                held[k] += q
                pending[k] = 0
        targets = []
        for k in range(n_sym):
            close = cols[k][1][i]
            last[k] = close
            f, s = fast[k], slow[k]
            f.append(close)
            fsum[k] += close
            if len(f) > FAST:
                fsum[k] -= f.popleft()
            s.append(close)
            ssum[k] += close
            if len(s) > SLOW:
                ssum[k] -= s.popleft()
            up = len(s) >= SLOW and fsum[k] / FAST > ssum[k] / SLOW
            targets.append(1.0 if up else 0.0)
        if i < WARMUP:
            continue
        equity = cash + sum(h * p for h, p in zip(held, last, strict=True))
        for k in range(n_sym):
            price = last[k]
            desired = float(math.trunc(targets[k] * equity * alloc / price))
            delta = desired - (held[k] + pending[k])
            if abs(delta) < 1e-9:
                continue
            if abs(delta) * price < min_trade * equity and desired != 0:
                continue
            pending[k] = int(delta)
            orders += 1
    equity = cash + sum(h * p for h, p in zip(held, last, strict=True))
    return Outcome(n * n_sym, time.perf_counter() - start, trades, equity, orders)


# -- our engine ---------------------------------------------------------------------------------


def ours(
    universe: list[Series],
    full: bool = False,
    snapshot_every: int = 1,
    commit_every: int = 1,
    batch: bool = True,
) -> Outcome:
    """Our TradingSession on a ReplayMarket with the local PaperBroker and the audit trail on.

    ``run_replay`` runs the engine's cycle without a report per cycle (``paper --batch``);
    ``batch=False`` runs ``run_iteration``, report and all, the loop the desk runs.
    """

    from tui_trader.core.timeframes import parse_interval, parse_period
    from tui_trader.engine.replay_batch import run_replay
    from tui_trader.market.replay import ReplayMarket
    from tui_trader.store.models import LiveOrder, LiveTrade

    _import_session_modules()  # imports are not replay throughput (the peers import first too)
    start = time.perf_counter()
    frame = universe_frame(universe)
    market = ReplayMarket(frame, "bench", interval=parse_interval("1m"), period=parse_period("1d"))
    with tempfile.TemporaryDirectory() as tmp:
        session = build_session(market, Path(tmp) / "bench.db", full, snapshot_every, commit_every)
        if batch:
            run_replay(session)
        else:
            while session.run_iteration() is not None:
                pass
        session.sync_orders()
        session.finish("end_of_data")
        seconds = time.perf_counter() - start
        sid = session.audit.session.id
        trades = LiveTrade.select().where(LiveTrade.session == sid).count()
        orders = LiveOrder.select().where(LiveOrder.session == sid).count()
        equity = session.broker.account().equity
        session.audit.db.close()
    return Outcome(len(universe[0]) * len(universe), seconds, trades, equity, orders)


def build_session(
    market: Any,
    db_path: Path,
    full: bool = False,
    snapshot_every: int = 1,
    commit_every: int = 1,
) -> Any:
    """A started session on ``market``: the crossover rule (or the full default pipeline)."""
    from tui_trader.brokers.paper import PaperBroker
    from tui_trader.brokers.paper_account import PaperCosts
    from tui_trader.core.clock import WallClock
    from tui_trader.engine.session import SessionConfig, TradingSession
    from tui_trader.learning.setup import LearningSettings, build_allocation
    from tui_trader.risk.limits import RiskLimits
    from tui_trader.store.audit import AuditLog
    from tui_trader.store.db import open_database
    from tui_trader.store.learning_journal import StoreLearningJournal
    from tui_trader.strategies import FixedWeights
    from tui_trader.strategies.crossover import MovingAverageCrossover
    from tui_trader.strategies.family import STRATEGY_NAMES

    symbols = tuple(market.symbols)
    alloc, min_trade = rules(len(symbols))
    extra: dict[str, Any] = {}
    if snapshot_every != 1:
        extra["snapshot_every"] = snapshot_every
    config = SessionConfig(
        mode="local",
        symbols=symbols,
        interval=market.interval,
        period=market.period,
        data_label="bench",
        start_cash=START_CASH,
        limits=RiskLimits(100.0, 100.0, 100.0, 10**9),
        allocation_pct=alloc * 100.0,
        min_trade_pct=min_trade / alloc * 100.0,  # the engine counts it against a full position
        **extra,
    )
    broker = PaperBroker(START_CASH, symbols, PaperCosts(0.0, 0.0, 0.0))
    db = open_database(db_path)
    clock = WallClock()
    audit_extra = {"commit_every": commit_every} if commit_every != 1 else {}
    audit = AuditLog(db, clock, **audit_extra)
    if full:
        strategies, allocator = build_allocation(
            LearningSettings(), False, StoreLearningJournal(audit, STRATEGY_NAMES)
        )
        # Default risk limits and allocation; the minimum trade is the rule's (0.5% of equity
        # for 100 symbols), because the default 1% is larger than a whole 1/100 allocation and
        # would skip every entry.
        config = _replace(config, limits=RiskLimits(), allocation_pct=None)
    else:
        strategies = [MovingAverageCrossover(FAST, SLOW)]
        allocator = FixedWeights({"trend": 1.0})
    session = TradingSession(config, market, broker, audit, clock, strategies, allocator)
    session.start()
    return session


def _import_session_modules() -> None:
    """Import what ``build_session`` uses, so that a run times the replay, not the imports."""
    import tui_trader.brokers.paper
    import tui_trader.engine.session
    import tui_trader.learning.setup
    import tui_trader.store.audit
    import tui_trader.store.learning_journal  # noqa: F401


def _replace(config: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` for the frozen session config."""
    from dataclasses import replace

    return replace(config, **changes)


# -- backtrader -----------------------------------------------------------------------------------


def backtrader_run(universe: list[Series]) -> Outcome:
    """backtrader (cerebro, one data feed per symbol, orders sized by the same rule)."""
    import backtrader as bt
    import pandas as pd

    start = time.perf_counter()
    n_sym = len(universe)
    alloc, min_trade = rules(n_sym)

    class Crossover(bt.Strategy):
        """The rule, per data feed; order quantities include orders not yet filled."""

        def __init__(self) -> None:
            self.ups = [
                bt.indicators.SMA(d.close, period=FAST) > bt.indicators.SMA(d.close, period=SLOW)
                for d in self.datas
            ]
            self.pending = [0] * len(self.datas)
            self.index = {id(d): k for k, d in enumerate(self.datas)}
            self.trades = 0
            self.orders = 0

        def notify_order(self, order: Any) -> None:
            """Forget an order's quantity once it is done."""
            if order.status in (order.Completed, order.Canceled, order.Margin, order.Rejected):
                self.pending[self.index[id(order.data)]] = 0

        def notify_trade(self, trade: Any) -> None:
            """Count closed round trips."""
            if trade.isclosed:
                self.trades += 1

        def next(self) -> None:
            """Size and send the orders of this bar."""
            if len(self) <= WARMUP:
                return
            equity = self.broker.getvalue()
            for k, d in enumerate(self.datas):
                price = d.close[0]
                target = 1.0 if self.ups[k][0] else 0.0
                desired = float(math.trunc(target * equity * alloc / price))
                held = self.getposition(d).size
                delta = desired - (held + self.pending[k])
                if abs(delta) < 1e-9:
                    continue
                if abs(delta) * price < min_trade * equity and desired != 0:
                    continue
                if delta > 0:
                    self.buy(data=d, size=int(delta))
                else:
                    self.sell(data=d, size=int(-delta))
                self.pending[k] = int(delta)
                self.orders += 1

    cerebro = bt.Cerebro(stdstats=False)
    for s in universe:
        frame = pd.DataFrame(
            {
                "open": s.open,
                "high": s.high,
                "low": s.low,
                "close": s.close,
                "volume": s.volume,
            },
            index=pd.to_datetime(s.ts_us, unit="us"),
        )
        cerebro.adddata(bt.feeds.PandasData(dataname=frame), name=s.symbol)
    cerebro.broker.setcash(START_CASH)
    cerebro.broker.set_checksubmit(False)
    cerebro.addstrategy(Crossover)
    (strat,) = cerebro.run()
    seconds = time.perf_counter() - start
    return Outcome(
        len(universe[0]) * n_sym, seconds, strat.trades, cerebro.broker.getvalue(), strat.orders
    )


# -- backtesting.py (AGPL-3.0: a benchmark-only optional dependency) ----------------------------


def backtesting_run(universe: list[Series]) -> Outcome:
    """backtesting.py; it trades one instrument per backtest, so a universe is one run each."""
    import pandas as pd
    from backtesting import Backtest, Strategy

    start = time.perf_counter()
    n_sym = len(universe)
    _alloc, min_trade = rules(1)

    def sma(values: Any, n: int) -> Any:
        """Simple moving average (pandas rolling mean)."""
        return pd.Series(values).rolling(n).mean()

    class Crossover(Strategy):
        """The rule for one instrument, all-in."""

        def init(self) -> None:
            """Both averages, computed up front."""
            self.fast = self.I(sma, self.data.Close, FAST)
            self.slow = self.I(sma, self.data.Close, SLOW)

        def next(self) -> None:
            """Enter all-in while the fast average is above the slow one; exit when not."""
            if len(self.data) <= WARMUP:
                return
            price = self.data.Close[-1]
            up = self.fast[-1] > self.slow[-1]
            equity = self.equity
            desired = float(math.trunc((1.0 if up else 0.0) * equity / price))
            delta = desired - self.position.size
            if abs(delta) < 1e-9 or (abs(delta) * price < min_trade * equity and desired != 0):
                return
            if delta > 0:
                self.buy(size=int(delta))
            else:
                self.position.close()

    trades = 0
    equity = 0.0
    cash = START_CASH / n_sym
    for s in universe:
        frame = pd.DataFrame(
            {
                "Open": s.open,
                "High": s.high,
                "Low": s.low,
                "Close": s.close,
                "Volume": s.volume,
            },
            index=pd.to_datetime(s.ts_us, unit="us"),
        )
        bt = Backtest(frame, Crossover, cash=cash, commission=0.0, finalize_trades=False)
        stats = bt.run()
        trades += int(stats["# Trades"])
        equity += float(stats["Equity Final [$]"])
    seconds = time.perf_counter() - start
    note = "" if n_sym == 1 else f"{n_sym} separate one-symbol backtests"
    return Outcome(len(universe[0]) * n_sym, seconds, trades, equity, note=note)


def universe_frame(universe: Any) -> Any:
    """The seeded bars as one replay table (timestamp, symbol, OHLCV), as ``ReplayMarket`` reads
    it: the benchmark and the same-results test replay exactly this."""
    import polars as pl

    return pl.concat(
        [
            pl.DataFrame(
                {
                    "timestamp": s.ts_us,
                    "symbol": [s.symbol] * len(s),
                    "open": s.open,
                    "high": s.high,
                    "low": s.low,
                    "close": s.close,
                    "volume": s.volume,
                }
            ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))
            for s in universe
        ]
    )
