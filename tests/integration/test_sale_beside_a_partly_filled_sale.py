"""A sale by hand beside another order's sale that filled in part and still works, the positions
read lagging that fill: sized from what the fills say, it never sells those shares again.

Desk one holds SPY. A sale of all of it placed outside the desk (Alpaca's web page; another
desk's sale is the same) fills half and works on. Alpaca's positions may leave out the fills of an
order still working, so desk one's read still holds every share; the listing shows the sale with
what it has left. Before, the sale by hand of what desk one saw free (held less that rest) went
out: the broker refused it while the rest worked (`insufficient qty available`), and where the
rest filled in the milliseconds before the send it sold shares the account no longer held: short
(``holds32``). Now what such a sale has filled is left out too (``risk.holdings.less_sales_filled``,
the halt flatten's ``lagging_fills``, one code path): the sale is not sent, said in one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tests.integration.ended_stop import spy_held
from tests.integration.test_flatten_never_shorts import rally_until_bought
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.sandbox.testing import SandboxHandle, wait_until


def _sells(trading: Any, key: str) -> list[Any]:
    """The SPY sells of the session of ``key`` the sandbox received."""
    return [
        o
        for o in sandbox_orders(trading)
        if key in (o.client_order_id or "") and str(o.side.value) == "sell"
    ]


def test_a_hand_sale_beside_a_partly_filled_sale_leaves_its_fills_out(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    one = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",))
    try:
        rally_until_bought(sandbox, one, trading)
        held = spy_held(trading)
        assert held >= 2, "desk one bought SPY"
        before = one.broker.positions()
        sandbox.admin.set_faults(partial_rate=1.0, partial_bars=3)  # half now, half 3 bars on
        request = MarketOrderRequest(
            symbol="SPY", qty=held, side=OrderSide.SELL, time_in_force=TimeInForce.DAY
        )
        trading.submit_order(request)  # the sale placed outside the desk
        sandbox.admin.set_faults(partial_rate=0.0)
        wait_until(lambda: 0 < spy_held(trading) < held, what="the sale's first fill")
        rest = spy_held(trading)
        one.broker._open_cache = None  # its half-minute listing is read now, the sale in it
        assert [o.filled_qty for o in one.broker.open_orders()] == [held - rest]
        one.broker.positions = lambda: before  # type: ignore[method-assign]  # lagging
        send = one.broker.submit

        def rest_fills_first(order: Any) -> Any:
            """The sale's rest fills in the milliseconds before the send."""
            sandbox.admin.step(bars=3)
            return send(order)

        one.broker.submit = rest_fills_first  # type: ignore[method-assign]
        key = one.audit.session.key
        one.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held - rest))
        report = one.apply_kill_requests()
        events = report.risk_events if report else []
        refused = [e.action_taken for e in events if e.event_type == MANUAL_REFUSED]
        assert _sells(trading, key) == [], "desk one sold the shares that sale had sold"
        assert spy_held(trading) >= 0, "short"
        assert len(refused) == 1, events
        assert refused[0].startswith(f"manual sell {held - rest:g} SPY not sent: "), refused
        assert f"have sold {held - rest:g} shares already" in refused[0], refused
        assert "so at most 0 are free to sell" in refused[0], refused
    finally:
        one.finish("stopped")
        one.broker.close()
