"""A desk given part of an account (``--start-cash`` on Alpaca: "trade as if the account held at
most this much") halts when it has lost its limit's share of that part, not of the account.

The session below trades $10,000 of a $100,000 account, all of it in one falling symbol, with a
5% drawdown kill switch. Before, the switch measured the whole account: the desk kept buying
the fall until it had lost $5,000, half of its money (a 50% fall), the account's 5%."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from tests.conftest import BuyAndHold, make_session
from tui_trader.brokers.paper import PaperBroker, PaperCosts
from tui_trader.core.domain import TradingState
from tui_trader.core.timeframes import parse_interval, parse_period
from tui_trader.market.replay import ReplayMarket
from tui_trader.risk.gate import DRAWDOWN
from tui_trader.risk.limits import RiskLimits

ACCOUNT, CAP = 100_000.0, 10_000.0


def _falling() -> ReplayMarket:
    """Five days at $100, then 1% lower every day for 60 days."""
    start = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    closes = [100.0] * 5 + [100.0 * 0.99**i for i in range(1, 61)]
    rows = [(start + timedelta(days=i), "AAA", c, c, c, c, 1e6) for i, c in enumerate(closes)]
    frame = pl.DataFrame(
        rows, schema=["timestamp", "symbol", "open", "high", "low", "close", "volume"], orient="row"
    ).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))
    return ReplayMarket(frame, "falling", ("AAA",), parse_interval("1d"), parse_period("5d"))


def test_the_kill_switch_halts_at_five_percent_of_the_desks_money(tmp_path: Path) -> None:
    session = make_session(
        tmp_path / "audit.db",
        market=_falling(),
        limits=RiskLimits(max_drawdown_pct=5.0, max_daily_loss_pct=50.0, max_position_pct=100.0),
        broker=PaperBroker(ACCOUNT, ("AAA",), PaperCosts(0.0, 0.0, 0.0)),
        symbols=("AAA",),
        strategies=[BuyAndHold()],
        allocation_pct=100.0,
        capital=CAP,
    )
    halted_at = None
    for _ in range(40):
        report = session.run_iteration()
        if report.state is TradingState.HALTED:
            halted_at = report
            break
    assert halted_at is not None, (
        f"no halt: the desk lost {ACCOUNT - report.equity:,.2f} of its {CAP:,.2f}"
    )
    lost = ACCOUNT - halted_at.equity
    assert 500 <= lost < 600, f"halted after losing {lost:,.2f} (5% of the cap is 500)"
    (event,) = [e for e in halted_at.risk_events if e.event_type == DRAWDOWN]
    assert "of the desk's equity cap 10,000.00" in event.detail
    assert session.risk.drawdown_pct(halted_at.equity) >= 5.0
