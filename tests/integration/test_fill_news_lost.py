"""A fill whose stream message is lost, the poll after the reconnect answered stale by REST.

Found by the crash25 campaign (sandbox faults `ws_drop=0.02,stale_rest=0.1`): a desk's market
sell filled; the trade-updates message was lost with the connection, and the poll made after
the reconnect got Alpaca's REST answer from before the fill (REST lags the stream). The desk
then followed the stream alone: the order stayed `new` in its rows for the rest of the
session, no fill recorded, the symbol's orders held back every cycle as "a position read
lagging a fill" (the broker's position showed the fill: it was the desk that lagged), and the
desk ended saying the order was still working.

The strategy sells the 10 back at the second cycle after the reconnect, a market order the
sandbox fills at once; the third cycle is right only with that fill heard. Its news comes by
the stream: on a loaded machine it came after the third cycle had drained the stream, and the
desk rightly held SPY back (its fills made 10, the broker held 0 while the sell still worked,
and the look-up of the sell, the first read since it filled, got REST's stale answer). So the
test waits until the stream has delivered the fills before that cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import OPEN_ROWS, alpaca_session, sandbox_view
from tui_trader.brokers.alpaca_stream import TradeUpdateFeed
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveFill, LiveOrder


def heard_fills(feed: TradeUpdateFeed) -> dict[str, float]:
    """Client order id -> the filled quantity the stream's news says, from now on: each
    update the desk's stream receives (the desk's queue still gets it) counts."""
    heard: dict[str, float] = {}
    put = feed.events.put

    def hear(item: Any, *args: Any, **kwargs: Any) -> None:
        order = item[1]
        cid = order.client_order_id
        heard[cid] = max(heard.get(cid, 0.0), float(order.filled_qty or 0))
        put(item, *args, **kwargs)

    feed.events.put = hear  # type: ignore[method-assign]
    return heard


def fills_heard(sb: SandboxHandle, heard: dict[str, float]) -> bool:
    """Whether the stream has delivered every fill the sandbox made of the orders whose rows
    are open: the news a cycle drains before it compares positions with the desk's fills."""
    view = sandbox_view(sb)
    for row in LiveOrder.select().where(LiveOrder.status.in_(OPEN_ROWS)):
        filled = view.get(row.client_order_id, (False, 0.0))[1]
        if filled > (row.filled_qty or 0.0) and heard.get(row.client_order_id, 0.0) < filled:
            return False
    return True


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
        heard = heard_fills(feed)
        notes: list[str] = []
        for _ in range(2):
            sandbox.admin.step()
            notes += desk.run_iteration().notes
        [row] = LiveOrder.select().where(LiveOrder.client_order_id.endswith("-m1"))
        assert (row.status, row.filled_qty) == ("filled", 10.0)
        assert sum(f.quantity for f in LiveFill.select().where(LiveFill.order == row)) == 10.0
        sandbox.admin.step()
        wait_until(lambda: fills_heard(sandbox, heard), what="the stream's news of the fills")
        last = desk.run_iteration().notes
        assert not [n for n in last if "does not agree" in n or "turned up" in n], last
    finally:
        desk.finish("stopped")
        desk.broker.close()
