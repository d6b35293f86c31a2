"""An order the broker refuses makes the desk read the account's open orders afresh.

While the trade-updates stream is up, the REST list of open orders (for orders placed
elsewhere on the account) is read at most every 30 s. An order placed meanwhile by another desk
(a dead desk's stop, a hand order) held the shares the desk then tried to sell or protect:
every cycle's order was refused ("insufficient qty available") until the list was read again.
By hand, two desks on one account with one killed: 23 refused orders in a row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tui_trader.core.orders import OrderRequest, OrderStatus, Side
from tui_trader.sandbox.testing import SandboxHandle


def test_a_refused_order_reads_the_open_orders_afresh(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "desk.db")
    broker = session.broker
    try:
        trading.submit_order(
            MarketOrderRequest(symbol="SPY", qty=10, side="buy", time_in_force="day")
        )
        sandbox.admin.step()
        session.run_iteration()  # the stream synced: the listing is read from a cache
        settle(sandbox, session)
        broker.open_orders()
        price = float(sandbox.admin.state()["prices"]["SPY"])
        other = trading.submit_order(  # another desk's order holds the 10 shares
            LimitOrderRequest(
                symbol="SPY",
                qty=10,
                side="sell",
                time_in_force="gtc",
                limit_price=round(price * 1.5, 2),
            )
        )
        ack = broker.submit(OrderRequest("SPY", Side.SELL, 10, "tt-test-1-SPY-r"))
        assert ack.status is OrderStatus.REJECTED, ack
        listed = {o.client_order_id for o in broker.open_orders()}
        assert other.client_order_id in listed
    finally:
        session.finish("stopped")
        broker.close()
