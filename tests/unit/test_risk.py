"""Each risk control trips at its limit and not before, and says what it did."""

from datetime import date

import pytest

from tui_trader.core.domain import TradingState
from tui_trader.core.orders import OrderRequest, Side
from tui_trader.risk.gate import (
    DAILY_LOSS,
    DRAWDOWN,
    ORDER_RATE,
    POSITION_SIZE,
    RiskLimits,
    RiskManager,
    RiskState,
)

D1, D2 = date(2024, 3, 4), date(2024, 3, 5)


def manager(**limits) -> RiskManager:
    return RiskManager(RiskLimits(**limits), RiskState("acct"))


def buy(qty: float, symbol: str = "SPY") -> OrderRequest:
    return OrderRequest(symbol, Side.BUY, qty, f"id-{qty}", rationale="test")


def test_defaults_are_the_phase_4_limits() -> None:
    """5% drawdown, 2% daily loss, 10% position, 100 orders a day."""
    assert RiskLimits() == RiskLimits(5.0, 2.0, 10.0, 100)


def test_drawdown_trips_at_the_limit_not_before() -> None:
    """4.99% below the peak passes; 5.00% halts until reset."""
    risk = manager(max_daily_loss_pct=50)
    risk.on_equity(100_000, D1)
    risk.on_equity(110_000, D1)
    assert risk.on_equity(110_000 * 0.9501, D1) == []
    (event,) = risk.on_equity(110_000 * 0.95, D1)
    assert event.event_type == DRAWDOWN and event.limit == 5.0
    assert event.value == pytest.approx(5.0)
    assert "until reset" in event.action_taken
    assert risk.state.state is TradingState.HALTED
    risk.on_equity(120_000, D2)
    assert risk.state.halted, "a drawdown halt outlives the day"


def test_daily_loss_trips_at_the_limit_and_ends_with_the_day() -> None:
    """1.99% down on the day passes; 2% halts; the next trading day re-arms."""
    risk = manager()
    risk.on_equity(100_000, D1)
    assert risk.on_equity(98_001, D1) == []
    (event,) = risk.on_equity(98_000, D1)
    assert event.event_type == DAILY_LOSS and "next trading day" in event.action_taken
    events = risk.on_equity(98_000, D2)
    assert not risk.state.halted
    assert "new trading day" in events[0].action_taken
    assert risk.state.day_open_equity == 98_000


def test_daily_loss_uses_the_brokers_previous_close_when_given() -> None:
    """Alpaca's last_equity is the day's opening equity."""
    risk = manager()
    risk.on_equity(100_000, D1)
    (event,) = risk.on_equity(101_000, D2, day_open_equity=103_100)
    assert event.event_type == DAILY_LOSS


def test_position_limit_reduces_an_order_to_fit() -> None:
    """10% of 100k at $100 is 100 shares: 150 asked, 40 held -> 60 sent, with an event."""
    risk = manager()
    check = risk.check_order(buy(150), price=100.0, equity=100_000, committed_qty=40)
    assert check.order.qty == 60
    (event,) = check.events
    assert event.event_type == POSITION_SIZE and "reduced from 150 to 60" in event.action_taken
    assert "position limit" in check.order.rationale


def test_position_limit_counts_open_orders_and_refuses_when_full() -> None:
    """With 100 shares already committed (held + open orders) a further buy is refused."""
    check = manager().check_order(buy(1), price=100.0, equity=100_000, committed_qty=100)
    assert check.order is None
    assert "refused" in check.events[0].action_taken


def test_exactly_at_the_position_limit_passes() -> None:
    """An order that lands exactly on 10% is not touched."""
    check = manager().check_order(buy(100), price=100.0, equity=100_000, committed_qty=0)
    assert check.order.qty == 100 and check.events == ()


def test_orders_that_shrink_exposure_always_pass_the_position_limit() -> None:
    """Selling part of an oversized position is allowed."""
    sell = OrderRequest("SPY", Side.SELL, 50, "s")
    check = manager().check_order(sell, price=100.0, equity=100_000, committed_qty=300)
    assert check.order.qty == 50


def test_order_rate_limit_trips_after_the_nth_order_and_resets_daily() -> None:
    """Three orders a day: the fourth is refused; the next day it passes."""
    risk = manager(max_orders_per_day=3)
    risk.on_equity(100_000, D1)
    for i in range(3):
        assert risk.check_order(buy(1), 100.0, 100_000, i).order is not None
    check = risk.check_order(buy(1), 100.0, 100_000, 3)
    assert check.order is None and check.events[0].event_type == ORDER_RATE
    risk.on_equity(100_000, D2)
    assert risk.check_order(buy(1), 100.0, 100_000, 3).order is not None


def test_halted_refuses_new_exposure_but_lets_positions_close() -> None:
    """While halted a buy is refused and a closing sell passes."""
    risk = manager()
    risk.halt("manual_kill", 0, 0, "test")
    assert risk.check_order(buy(1), 100.0, 100_000, 0).order is None
    sell = OrderRequest("SPY", Side.SELL, 10, "s")
    assert risk.check_order(sell, 100.0, 100_000, 10).order is not None


def test_reset_lifts_a_halt_and_restarts_the_peak() -> None:
    """After a reset, the drawdown is measured from the equity at reset."""
    risk = manager()
    risk.on_equity(100_000, D1)
    risk.on_equity(94_000, D1)
    assert risk.state.halted
    event = risk.reset(94_000)
    assert not risk.state.halted and risk.drawdown_pct(94_000) == 0
    assert "reset" in event.action_taken


@pytest.mark.parametrize(
    "bad",
    [
        {"max_drawdown_pct": 0},
        {"max_daily_loss_pct": -1},
        {"max_position_pct": 101},
        {"max_orders_per_day": 0},
        {"max_drawdown_pct": float("nan")},
    ],
)
def test_meaningless_limits_are_refused(bad: dict) -> None:
    """Zero, negative or over-100% limits cannot be configured."""
    with pytest.raises(ValueError):
        RiskLimits(**bad)
