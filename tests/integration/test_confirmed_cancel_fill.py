"""A cancel confirmed by its look-up records the shares the order filled before it.

An exit waits for its stop's cancel to be confirmed (``cancel(confirm=True)``: the order looked
up until Alpaca says ``canceled``) before it sells. The look-up that confirmed it also showed
what the order had filled before the cancel took, but only its status was kept: the order
turned final with the fills it had when last seen, and with the trade-updates stream down
(polling skips final orders) those shares never reached the audit trail. Now the confirming
view is merged: its fill is reported with the cancel. Sandbox, stream off.
"""

from __future__ import annotations

from typing import Any

from tests.integration.alpaca_helpers import endpoint_for, sandbox_view
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side
from tui_trader.sandbox.testing import SandboxHandle


def test_a_confirmed_cancel_records_the_fill_its_look_up_showed(
    sandbox: SandboxHandle, trading: Any
) -> None:
    """A limit buy of 10 SPY fills 5 (the broker not told yet: no stream, no poll in
    between), then is cancelled with confirmation. Before: no fill was ever reported and the
    order said 0 filled. Now the 5 shares come with the cancel."""
    broker = AlpacaBroker(endpoint_for(sandbox), use_stream=False, require_open_market=False)
    try:
        price = float(sandbox.admin.state()["prices"]["SPY"])
        request = OrderRequest(
            "SPY",
            Side.BUY,
            10,
            client_order_id="tt-conf-1-SPY-r",
            order_type=OrderType.LIMIT,
            limit_price=round(price * 0.97, 2),
        )
        sandbox.admin.set_faults(partial_rate=1.0)  # its fill takes half the order a bar
        try:
            assert broker.submit(request).status.is_open
        finally:
            sandbox.admin.clear_faults()
        assert all(u.fill is None for u in broker.drain_updates())  # working, 3% below
        sandbox.admin.step(shock={"SPY": -5.0})  # the price falls through the limit: 5 fill
        assert sandbox_view(sandbox)[request.client_order_id] == (True, 5)
        cancelled = broker.cancel(request.client_order_id, confirm=True)
        assert cancelled is not None and cancelled.status is OrderStatus.CANCELED
        assert cancelled.filled_qty == 5, cancelled
        updates = broker.drain_updates()
        fills = [u.fill for u in updates if u.fill is not None]
        assert [(f.symbol, f.qty) for f in fills] == [("SPY", 5)], updates
        assert updates[-1].order.status is OrderStatus.CANCELED
        assert "SPY" not in broker.working_symbols()
    finally:
        broker.close()
