"""The report's figures on a small session worked out by hand (tui_trader.reporting.metrics)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.reporting.load import strategy_of
from tui_trader.reporting.metrics import EquityPoint, FillRecord, TradeRecord, build_report

DAY0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def _day(n: int) -> datetime:
    """The n-th day after DAY0."""
    return DAY0 + timedelta(days=n)


def _trade(symbol: str, strategy: str, pnl: float, entry: int, exit_: int) -> TradeRecord:
    """A long round trip of 10 shares at 100."""
    return TradeRecord(
        symbol, strategy, "long", 10, 100.0, 100 + pnl / 10, _day(entry), _day(exit_), pnl,
        pnl / 10, 1.0, 0.5,
    )  # fmt: skip


EQUITY = [100.0, 110.0, 99.0, 104.5, 115.0]
"""Equity at the end of days 0..4 (start cash 100): +10%, -10%, +5.56%, +10.05%."""


def _report():
    """Two symbols, two strategies, one loss; fills on day 1 (buy) and day 3 (sell)."""
    points = [EquityPoint(_day(i), v) for i, v in enumerate(EQUITY)]
    trades = [
        _trade("AAA", "trend", 30.0, 1, 3),
        _trade("BBB", "momentum", -10.0, 1, 2),
        _trade("AAA", "trend", 5.0, 3, 4),
    ]
    fills = [
        FillRecord(_day(1), "AAA", 10, 100.0, 1.0, 0.5),
        FillRecord(_day(3), "AAA", -10, 103.0, 1.0, 0.5),
    ]
    return build_report(100.0, points, trades, fills)


def test_return_drawdown_and_its_duration() -> None:
    """Return over the start cash; the 10% fall from 110 lasts from day 1 to day 4."""
    r = _report()
    assert r.return_pct == pytest.approx(15.0)
    assert r.max_drawdown_pct == pytest.approx(10.0)
    assert r.max_drawdown_duration == timedelta(days=2)
    assert r.max_drawdown_points == 2
    assert r.drawdown_pct == pytest.approx((0.0, 0.0, -10.0, -5.0, 0.0))


def test_sharpe_sortino_and_cagr_from_daily_returns() -> None:
    """Daily returns against the previous day (day 0 against the start cash: zero)."""
    r = _report()
    daily = [0.0, 0.1, -0.1, 104.5 / 99 - 1, 115 / 104.5 - 1]
    mean = sum(daily) / 5
    std = math.sqrt(sum((d - mean) ** 2 for d in daily) / 4)
    assert r.sharpe == pytest.approx(mean / std * math.sqrt(252))
    assert r.sortino == pytest.approx(mean / math.sqrt(0.01 / 5) * math.sqrt(252))
    assert r.cagr_pct == pytest.approx((1.15 ** (365.25 / 4) - 1) * 100)


def test_trade_figures_by_symbol_and_by_strategy() -> None:
    """Win rate, profit factor, averages, best and worst, per group."""
    r = _report()
    assert r.trades == 3
    assert r.win_rate_pct == pytest.approx(200 / 3)
    assert r.profit_factor == pytest.approx(3.5)
    assert (r.avg_win, r.avg_loss) == (17.5, -10.0)
    assert (r.best_trade.pnl, r.worst_trade.pnl) == (30.0, -10.0)
    assert [(g.name, g.trades, g.pnl) for g in r.by_symbol] == [("AAA", 2, 35.0), ("BBB", 1, -10.0)]
    assert [g.name for g in r.by_strategy] == ["trend", "momentum"]
    assert r.by_strategy[1].profit_factor == 0.0


def test_exposure_turnover_and_costs() -> None:
    """Held from day 1's fill to day 3's (that bar counts): 3 of 5 points; costs from fills."""
    r = _report()
    assert r.exposure_pct == pytest.approx(60.0)
    assert r.traded_value == pytest.approx(2030.0)
    assert r.turnover == pytest.approx(2030.0 / (sum(EQUITY) + 100) * 6)
    assert (r.commissions, r.slippage) == (2.0, 1.0)


def test_an_empty_session_reports_nothing_undefined_as_a_number() -> None:
    """No snapshots, no trades: undefined figures are None, not zero or a crash."""
    r = build_report(100.0, [], [], [])
    assert (r.return_pct, r.trades, r.max_drawdown_pct) == (0.0, 0, 0.0)
    assert r.sharpe is r.win_rate_pct is r.exposure_pct is r.best_trade is None


def test_strategy_attribution_reads_the_opening_orders_rationale() -> None:
    """Fixed and adaptive rationales name their strategies; manual and flatten are their own."""
    fixed = "target +1.00 -> 33 sh; trend w=1.00: SMA10 205.14 > SMA30 203.08"
    adaptive = (
        "target +0.57 -> 26 sh; adaptive, regime bull/calm (0.37); weights trend=0.25 "
        "momentum=0.21; trend: SMA10 205.14 > SMA30 203.08; momentum: ROC20 +4.8% > 0%"
    )
    assert strategy_of(fixed) == "trend"
    assert strategy_of(adaptive) == "trend+momentum"
    assert strategy_of("manual order from the desk") == "manual"
    assert strategy_of("flatten on halt (manual_kill)") == "flatten"
    assert strategy_of("") == "unattributed"
