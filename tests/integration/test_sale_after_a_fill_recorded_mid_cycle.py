"""A sale never sells shares an exit's fill, recorded after the desk read its positions, sold
already (``engine.sold_since``).

Desk one (a 3% stop loss) buys SPY and stops without flattening, its stop left working; desk
two, which keeps exits, takes that stop over. In one of desk two's cycles the stop fills at the
broker right after desk two read its positions, and desk two records that fill (as its check of
the positions against its fills does, draining what the stream brought) before its strategy,
now flat, sells. Before, the sale was sized from the positions read before the fill: it sold
the whole position a second time, a short at the sandbox (``campaign32``'s run pg6012: short
20 SPY for 11 s on PostgreSQL). Now it waits that cycle, said in plain words, and the next
cycle, reading positions that hold the fill, sends nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import settle
from tests.integration.ended_stop import RULE, ended_desks_stop, spy_held, working_stops
from tui_trader.core.domain import Signal
from tui_trader.core.orders import Side
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder
from tui_trader.store.pg_url import PgUrl

CRASH = {"SPY": -8.0}
"""One bar down far enough to trigger the 3% stop."""


def test_a_strategy_sale_waits_beside_a_taken_over_exits_fill_recorded_mid_cycle(
    sandbox: SandboxHandle, trading: Any, store: Path | PgUrl
) -> None:
    """On both stores (the campaign's run was on PostgreSQL, whose marker is a snapshot)."""
    two = ended_desks_stop(sandbox, store, stop_loss=RULE)
    try:
        sandbox.admin.step()
        two.run_iteration()  # takes desk one's stop over (it keeps exits)
        settle(sandbox, two)
        held = spy_held(trading)
        assert held > 0 and [q for q, _ in working_stops(trading)] == [held]
        key = two.audit.session.key
        taken = LiveOrder.select().where(
            (LiveOrder.session == two.audit.session.id) & (LiveOrder.side == "sell")
        )
        assert [row.client_order_id for row in taken if key not in row.client_order_id], (
            "desk two took desk one's stop over"
        )
        two.allocator.allocate = lambda symbol, signals: Signal(0.0, "flat now")
        listing = two.broker.open_orders
        armed = [True]

        def open_orders() -> Any:
            """The rebalance's listing: first the stop fills at the broker, after the
            cycle's positions read, and the desk records that fill (``_look_up_fills``)."""
            if armed and armed.pop():
                sandbox.admin.step(shock=CRASH)
                wait_until(lambda: spy_held(trading) == 0, what="the stop filled")
                assert two._look_up_fills("SPY"), "the stop's fill recorded mid-cycle"
            return listing()

        two.broker.open_orders = open_orders  # type: ignore[method-assign]
        sandbox.admin.step()
        notes = list(two.run_iteration().notes)
        assert not armed, "the stop filled between the positions read and the sale"
        settle(sandbox, two)
        assert spy_held(trading) == 0, f"the sale sold the stop's shares again: {notes}"
        for _ in range(2):  # the next cycles read the fill: flat, nothing to send
            sandbox.admin.step()
            notes += two.run_iteration().notes
        settle(sandbox, two)
        assert spy_held(trading) == 0, notes
        sales = [
            row
            for row in LiveOrder.select().where(LiveOrder.side == str(Side.SELL))
            if row.client_order_id.endswith("-SPY-r")
        ]
        assert [row.status for row in sales] == ["rejected"], "one sale, not sent"
        said = [n for n in notes if n.startswith(f"sell {held:g} SPY not sent: a sale of ")]
        assert said and "recorded after this desk read its positions" in said[0], notes
    finally:
        two.finish("stopped")
        two.broker.close()
