"""Two desks of one store on one Alpaca account buying the same symbol by hand, seconds apart:
the second desk counts the first one's working buy under the position limit, though its
listing of the account's open orders (read at most every 30 s while the stream runs,
``brokers.alpaca_reads``) does not show it yet (``engine.others_working``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.gate import POSITION_SIZE
from tui_trader.sandbox.testing import SandboxHandle, wait_until

MOMENTUM = LearningSettings("momentum")


def _limit_buy(desk: TradingSession, price: float) -> Any:
    """A GTC limit buy by hand of far more than the limit allows: the gate's report."""
    desk.request_manual_order(
        ManualOrder(
            "SPY",
            Side.BUY,
            qty=100_000,
            order_type=OrderType.LIMIT,
            limit_price=price,
            time_in_force=TimeInForce.GTC,
        )
    )
    report = desk.apply_kill_requests()
    assert report is not None
    return report


def test_a_second_desk_counts_the_first_desks_working_buy_under_the_position_limit(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one's limit buy just under the market takes the whole 10% of SPY; desk two's, a
    moment later, finds no room. Before, desk two's listing still lacked desk one's order: it
    sent a buy of the whole limit too (20 SPY each at about $479 on $100,000), 19% of the
    account's equity once both filled."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    try:
        for desk in (one, two):
            desk.sync_orders()
            wait_until(lambda d=desk: d.broker.trading_ready() is None, what="the stream")
        sandbox.admin.step()
        one.run_iteration()
        two.run_iteration()  # its listing of the account's open orders: none
        price = one.last_prices["SPY"]
        below = round(price * 0.999, 2)
        first = _limit_buy(one, below)
        [bought] = [o for o in first.orders if o.side is Side.BUY]
        settle(sandbox, one)
        second = _limit_buy(two, below)
        assert [o for o in second.orders if o.side is Side.BUY] == []
        [event] = second.risk_events
        assert event.event_type == POSITION_SIZE
        assert "no room under the position limit" in event.action_taken
        equity = float(trading.get_account().equity)
        working = [o for o in trading.get_orders() if str(o.side.value) == "buy"]
        assert sum(float(o.qty) for o in working) == bought.qty
        assert bought.qty * price <= 0.10 * equity + 1e-6
    finally:
        for desk in (one, two):
            desk.finish("stopped")
            desk.broker.close()
