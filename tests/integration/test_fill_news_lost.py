"""A fill whose stream message is lost, the poll after the reconnect answered stale by REST.

Found by the crash25 campaign (sandbox faults `ws_drop=0.02,stale_rest=0.1`): a desk's market
sell filled; the trade-updates message was lost with the connection, and the poll made after
the reconnect got Alpaca's REST answer from before the fill (REST lags the stream). The desk
then followed the stream alone: the order stayed `new` in its rows for the rest of the
session, no fill recorded, the symbol's orders held back every cycle as "a position read
lagging a fill" (the broker's position showed the fill: it was the desk that lagged), and the
desk ended saying the order was still working.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveFill, LiveOrder


def test_a_fill_whose_news_was_lost_is_recorded_at_the_next_cycle(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A hand buy of 10 SPY fills while the stream drops its message; every REST read after a
    change answers the state before it once. By the second cycle after the reconnect the
    buy's row says filled, its fill is recorded, and nothing holds SPY back any more."""
    desk = alpaca_session(
        sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=LearningSettings("momentum")
    )
    try:
        for _ in range(2):
            sandbox.admin.step()
            desk.run_iteration()
        feed = desk.broker.feed
        connects = feed.connects
        sandbox.admin.set_faults(ws_drop=1, stale_rest=1)  # the fill's message: lost
        desk.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
        desk.apply_kill_requests()
        sandbox.admin.step()
        assert {p.symbol: float(p.qty) for p in trading.get_all_positions()} == {"SPY": 10.0}
        sandbox.admin.set_faults(ws_drop=0)
        wait_until(lambda: feed.connected and feed.connects > connects, what="a reconnect")
        notes: list[str] = []
        for _ in range(2):
            sandbox.admin.step()
            notes += desk.run_iteration().notes
        [row] = LiveOrder.select().where(LiveOrder.client_order_id.endswith("-m1"))
        assert (row.status, row.filled_qty) == ("filled", 10.0)
        assert sum(f.quantity for f in LiveFill.select().where(LiveFill.order == row)) == 10.0
        sandbox.admin.step()
        last = desk.run_iteration().notes
        assert not [n for n in last if "does not agree" in n or "turned up" in n], last
    finally:
        desk.finish("stopped")
        desk.broker.close()
