"""A cancel Alpaca accepts while the order fills anyway.

Alpaca answers a cancel with 204 and cancels asynchronously: the order can still fill at the
exchange before the cancel reaches it. The broker reported the order cancelled at once and,
while the trade-updates stream was down (or reconnecting), polled only orders it did not think
final: the fill that won the race never reached the audit trail, and the next start's
reconciliation skipped the row too (it was final), so the shares stayed unexplained.
"""

from __future__ import annotations

from typing import Any

from tests.integration.alpaca_helpers import endpoint_for
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side
from tui_trader.sandbox.testing import SandboxHandle


def test_a_fill_that_beats_an_accepted_cancel_is_still_recorded(
    sandbox: SandboxHandle, trading: Any
) -> None:
    broker = AlpacaBroker(endpoint_for(sandbox), use_stream=False, require_open_market=False)
    try:
        price = float(sandbox.admin.state()["prices"]["SPY"])
        request = OrderRequest(
            "SPY",
            Side.BUY,
            7,
            client_order_id="tt-race-1-SPY-r",
            order_type=OrderType.LIMIT,
            limit_price=round(price * 0.97, 2),
        )
        assert broker.submit(request).status.is_open
        assert all(u.fill is None for u in broker.drain_updates())  # working, 3% below
        # Alpaca takes the cancel (204) but the exchange fills the order first.
        broker.client.cancel_order_by_id = lambda order_id: None
        cancelled = broker.cancel(request.client_order_id)
        assert cancelled is not None and cancelled.status is OrderStatus.CANCELED
        assert "SPY" in broker.working_symbols()  # a fill may still come
        sandbox.admin.step(shock={"SPY": -5.0})  # the price falls through the limit
        updates = broker.drain_updates()
        fills = [u.fill for u in updates if u.fill is not None]
        assert [(f.symbol, f.qty) for f in fills] == [("SPY", 7)]
        assert updates[-1].order.status is OrderStatus.FILLED
        assert "SPY" not in broker.working_symbols()
        assert broker.drain_updates() == []  # the broker's word came: no more look-ups
    finally:
        broker.close()
