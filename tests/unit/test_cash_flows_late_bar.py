"""A cycle run on a late bar (stamped on the day before the desk's day: a lagging symbol's bar,
a clock stepped back over midnight) counts toward the desk's day (``RiskManager.on_equity``);
the day's cash moves it reads must be that day's too, not the earlier day's window, whose
money the broker's previous close already holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.clock import FrozenClock
from tui_trader.core.domain import Account, Bar
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.engine.session import SessionConfig, TradingSession
from tui_trader.market.replay import ReplayMarket
from tui_trader.risk.limits import RiskLimits
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.strategies import FixedWeights
from tui_trader.strategies.crossover import MovingAverageCrossover

TODAY = date(2026, 12, 8)
NOW = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)  # 10:00 New York
CLOSE = 10_000.0


class _CashBroker(PaperBroker):
    """The local broker as an Alpaca account looks: a previous close, and $1,000 withdrawn the
    day before (held by that close); nothing moved today."""

    def __init__(self) -> None:
        super().__init__(CLOSE, ("AAA",), PaperCosts(0.0, 0.0, 0.0))
        self.days: list[date] = []

    def cash_flows(self, day: date) -> float:
        self.days.append(day)
        return -1_000.0 if day < TODAY else 0.0  # an earlier window holds yesterday's

    def account(self) -> Account:
        return replace(super().account(), last_equity=CLOSE)


def _bar(ts: datetime) -> dict[str, Bar]:
    return {"AAA": Bar("AAA", ts, 100.0, 100.0, 100.0, 100.0, 1.0)}


def test_a_late_bars_cycle_reads_the_desks_days_cash_moves(tmp_path: Path) -> None:
    """Today's first cycle, then one on a bar stamped yesterday: the day's opening stays the
    previous close (nothing moved today). Before, the late cycle read yesterday's window, took
    yesterday's $1,000 withdrawal (already in the close) for today's, and lowered the opening
    by it (the daily-loss limit $1,000 wider for that cycle), and the next cycle, back on
    today's window, lifted the peak by the $1,000 "deposit": a 9% drawdown that was none."""
    frame = pl.DataFrame(
        {"timestamp": [NOW], "symbol": ["AAA"], "open": [100.0], "high": [100.0]}
        | {"low": [100.0], "close": [100.0], "volume": [1.0]}
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))
    market = ReplayMarket(
        frame, "test", ("AAA",), interval=parse_interval("1m"), period=parse_period("1d")
    )
    clock = FrozenClock(NOW, step=timedelta(seconds=1))
    config = SessionConfig(
        mode="local",
        symbols=("AAA",),
        interval=market.interval,
        period=market.period,
        data_label="test",
        start_cash=CLOSE,
        limits=RiskLimits(100.0, 100.0, 100.0, 10**6),
    )
    broker = _CashBroker()
    audit = AuditLog(open_database(tmp_path / "late.db"), clock)
    session: Any = TradingSession(
        config,
        market,
        broker,
        audit,
        clock,
        [MovingAverageCrossover(2, 4)],
        FixedWeights({"trend": 1.0}),
    )
    session.start()
    for stamp in (NOW, NOW - timedelta(days=1), NOW + timedelta(minutes=1)):
        with session.audit.cycle():
            session._cycle(_bar(stamp))
        assert session.risk.state.day == TODAY
        assert session.risk.state.day_open_equity == CLOSE
        assert session.risk.state.peak_equity == CLOSE  # no drawdown: nothing was lost
    assert broker.days == [TODAY, TODAY, TODAY]
