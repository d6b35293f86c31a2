"""Two desks of one store on one Alpaca account: desk two's buy has filled at the broker, its
row not brought up to the fill yet (a desk records its fills at its next look, a strategy's at
its next cycle), when desk one buys by hand (``engine.others_working``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_position_limit_two_desks import MOMENTUM, _limit_buy
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.gate import POSITION_SIZE
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def _held(trading: Any) -> float:
    """SPY held by the account, as the broker says."""
    return sum(float(p.qty) for p in trading.get_all_positions() if p.symbol == "SPY")


def test_another_desks_filled_buy_is_counted_once_not_as_held_and_working(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two buys 10 SPY at the market (about half the 10% limit) and it fills; its row
    still says it works. Desk one's buy by hand is cut to the room left, about 10 shares.
    Before, the row counted as working beside the 10 shares held: 20 against a limit of 20.9,
    the buy refused, `no room under the position limit`."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    try:
        for desk in (one, two):
            desk.sync_orders()
            wait_until(lambda d=desk: d.broker.trading_ready() is None, what="the stream")
        sandbox.admin.step()
        one.run_iteration()
        two.run_iteration()
        two.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
        report = two.apply_kill_requests()
        assert report is not None and [o.qty for o in report.orders] == [10]
        sandbox.admin.step()
        wait_until(lambda: _held(trading) == 10, what="desk two's buy filled")
        [row] = LiveOrder.select()
        assert row.filled_qty == 0 and row.status != "filled"  # desk two has not recorded it
        price = one.last_prices["SPY"]
        room = 0.10 * float(trading.get_account().equity) / price - 10
        assert 9 < room < 12
        first = _limit_buy(one, round(price * 0.999, 2))
        [bought] = [o for o in first.orders if o.side is Side.BUY]
        assert bought.qty == int(room)
        [event] = first.risk_events
        assert event.event_type == POSITION_SIZE and "reduced from 100,000" in event.action_taken
    finally:
        for desk in (one, two):
            desk.finish("stopped")
            desk.broker.close()
