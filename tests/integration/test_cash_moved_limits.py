"""Deposits and withdrawals at Alpaca do not move the drawdown and daily-loss limits as trading
would (``risk.cash_flows``): real alpaca-py desks on the sandbox, whose ``POST /admin/cash``
books the cash move and whose account activities list it as Alpaca does (CSD, CSW)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.cash_flows import FLOWS_UNREAD
from tui_trader.risk.gate import DAILY_LOSS
from tui_trader.risk.limits import RiskLimits
from tui_trader.sandbox.testing import SandboxHandle

MOMENTUM = LearningSettings("momentum")
WIDE = RiskLimits(max_drawdown_pct=50.0, max_position_pct=100.0)
"""Only the daily-loss limit in reach: a position of most of the account may be held."""


def _desk(sandbox: SandboxHandle, db: Any, limits: RiskLimits = WIDE) -> TradingSession:
    return alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, limits=limits)


def _hold_spy(sandbox: SandboxHandle, desk: TradingSession, share: float) -> None:
    """Buy by hand SPY worth ``share`` of the equity, filled on the next bar; no cycle after
    it (the strategy would sell what it did not buy itself)."""
    qty = int(share * desk.equity_seen / desk.last_prices["SPY"])
    desk.request_manual_order(ManualOrder("SPY", Side.BUY, qty=qty))
    assert desk.apply_kill_requests() is not None
    sandbox.admin.step()
    settle(sandbox, desk)
    assert float(sandbox.admin.state()["positions"]["SPY"]) == qty


def _stop(*desks: TradingSession) -> None:
    for desk in desks:
        desk.finish("stopped")
        desk.broker.close()


def test_a_deposit_then_a_loss_trips_the_daily_loss_limit(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """$10,000 deposited on the day, then SPY (80% of the account) down 5%: a loss of about
    4% of the day's opening. Before, the equity was still above the day's opening (the
    deposit counted as the day's gain) and nothing tripped; now the daily-loss limit halts."""
    desk = _desk(sandbox, tmp_path / "desk.db")
    try:
        sandbox.admin.step()
        desk.run_iteration()
        _hold_spy(sandbox, desk, 0.8)
        opening = float(trading.get_account().last_equity)
        sandbox.admin.move_cash(10_000)
        sandbox.admin.step(shock={"SPY": -5.0})
        report = desk.run_iteration()
        equity = float(trading.get_account().equity)
        assert equity > opening  # the day's loss hidden behind the deposit before
        assert desk.risk.state.halt_reason == DAILY_LOSS, report
        assert "deposited today" in desk.risk.state.halt_detail
    finally:
        _stop(desk)


def test_a_withdrawal_is_no_drawdown(sandbox: SandboxHandle, trading: Any, tmp_path: Path) -> None:
    """10% withdrawn with the default 5% drawdown limit: no halt. Before, the drawdown kill
    switch halted the account until a reset."""
    desk = _desk(sandbox, tmp_path / "desk.db", RiskLimits())
    try:
        sandbox.admin.step()
        desk.run_iteration()
        before = float(trading.get_account().equity)
        sandbox.admin.move_cash(-before / 10)
        for _ in range(2):
            sandbox.admin.step()
            desk.run_iteration()
        assert float(trading.get_account().equity) < before * 0.91
        assert not desk.risk.state.halted, desk.risk.state.halt_detail
        assert desk.risk.drawdown_pct(float(trading.get_account().equity)) < 1.0
    finally:
        _stop(desk)


def test_two_desks_on_one_account_count_the_deposit_once(
    sandbox: SandboxHandle, trading: Any, store: Any
) -> None:
    """Both desks read the $10,000 deposit, cycle after cycle: the account's shared row (on
    SQLite and PostgreSQL) has the day's opening moved by it once."""
    one, two = _desk(sandbox, store), _desk(sandbox, store)
    try:
        sandbox.admin.step()
        for desk in (one, two):
            desk.run_iteration()
        opening = float(trading.get_account().last_equity)
        sandbox.admin.move_cash(10_000)
        for _ in range(3):
            sandbox.admin.step()
            for desk in (one, two):
                desk.run_iteration()
        for desk in (one, two):
            assert desk.risk.state.day_open_equity == opening + 10_000
        assert one.risk.state.peak_equity == two.risk.state.peak_equity
        assert one.risk.state.peak_equity is not None
        assert one.risk.state.peak_equity < opening + 10_000 + 1_000  # not twice the deposit
    finally:
        _stop(one, two)


def test_activities_unreadable_count_no_rise_as_a_gain_and_say_so(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The activities endpoint failing (HTTP 500): the desk says so once in plain words, and a
    deposit it cannot see does not hide the loss after it."""
    desk = _desk(sandbox, tmp_path / "desk.db")
    try:
        sandbox.admin.set_faults(activities_fail_rate=1.0, error_status=500)
        sandbox.admin.step()
        said = desk.run_iteration()
        assert said is not None
        [event] = [e for e in said.risk_events if e.event_type == FLOWS_UNREAD]
        assert "deposits and withdrawals could not be read" in event.action_taken
        assert "HTTP 500" in event.detail
        opening = float(trading.get_account().last_equity)
        sandbox.admin.move_cash(10_000)
        sandbox.admin.step()
        again = desk.run_iteration()
        assert again is not None
        assert not [e for e in again.risk_events if e.event_type == FLOWS_UNREAD]  # said once
        assert not desk.risk.state.halted
        _hold_spy(sandbox, desk, 0.8)
        sandbox.admin.step(shock={"SPY": -5.0})
        desk.run_iteration()
        assert float(trading.get_account().equity) > opening
        assert desk.risk.state.halt_reason == DAILY_LOSS
    finally:
        _stop(desk)


def test_a_manual_buy_between_bars_after_a_deposit_and_a_loss_is_refused(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The deposit and the loss both come after the last cycle; a buy by hand before the next
    one reads the account then. Before, the equity above the day's opening let it out; now it
    is refused as past the daily-loss limit."""
    desk = _desk(sandbox, tmp_path / "desk.db")
    try:
        sandbox.admin.step()
        desk.run_iteration()
        _hold_spy(sandbox, desk, 0.8)
        sandbox.admin.move_cash(10_000)
        sandbox.admin.step(shock={"SPY": -5.0})
        desk.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
        report = desk.apply_kill_requests()
        assert report is not None
        assert [o for o in report.orders if o.side is Side.BUY and o.qty == 1] == []
        assert any("past its daily loss limit" in e.action_taken for e in report.risk_events), (
            report.risk_events
        )
    finally:
        _stop(desk)
