"""Two desks of one store on one Alpaca account, the first one ended (quit, or killed) seconds
after its buy by hand: its order works on at the broker, and the second desk's listing of the
account's open orders (read at most every 30 s while the stream runs) does not show it yet
(``engine.others_working``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_position_limit_two_desks import MOMENTUM, _limit_buy
from tui_trader.brokers import alpaca_reads
from tui_trader.core.orders import Side
from tui_trader.engine.others_working import ENDED_WITHIN, LISTING_AGE
from tui_trader.risk.gate import POSITION_SIZE
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.liveness import MIN_WINDOW


def test_a_desk_that_quit_after_its_buy_still_has_its_buy_counted(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk one's GTC limit buy just under the market takes the whole 10% of SPY, then the
    trader quits desk one (its order keeps working at the broker, as a stopped desk's orders
    do); desk two, a moment later, finds no room."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    closed = []
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
        one.finish("stopped")
        one.broker.close()
        closed.append(one)
        working = [o for o in trading.get_orders() if str(o.side.value) == "buy"]
        assert [float(o.qty) for o in working] == [bought.qty]  # it works on at the broker
        second = _limit_buy(two, below)
        assert [o for o in second.orders if o.side is Side.BUY] == []
        [event] = second.risk_events
        assert event.event_type == POSITION_SIZE
        assert "no room under the position limit" in event.action_taken
    finally:
        for desk in (one, two):
            if desk not in closed:
                desk.finish("stopped")
                desk.broker.close()


def test_the_ended_desks_window_covers_the_listings_age() -> None:
    """An ended desk's rows count as long as a listing read before it ended may stand in."""
    assert LISTING_AGE == alpaca_reads.OPEN_ORDERS_TTL
    assert ENDED_WITHIN >= LISTING_AGE + MIN_WINDOW
