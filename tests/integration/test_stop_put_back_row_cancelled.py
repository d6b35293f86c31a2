"""A stop placed again and then cancelled before a new sell by hand: its row says cancelled.

A desk that keeps no exits puts an ended desk's stop back once the sell it was cancelled for
ends unfilled. Cancelled again before a new sell by hand, that stop's row stayed
``pending_new`` while the broker, and the desk's own report, had it cancelled: History showed
a working stop that was not there, and the rows no longer matched the broker order by order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import sandbox_orders
from tests.integration.ended_stop import (
    cancel,
    ended_desks_stop,
    limit_sell,
    spy_held,
    working_stops,
)
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def test_a_stop_placed_again_then_cancelled_for_a_sell_has_its_row_cancelled(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two sells all by hand (desk one's stop cancelled), cancels it and sells one share;
    a cycle places the stop again for the rest. A new sell of the rest cancels that stop: the
    sandbox and the desk's rows agree on every order (before, the stop's row stayed
    ``pending_new`` and the rows never settled)."""
    two = ended_desks_stop(sandbox, tmp_path / "desk.db")
    try:
        held = spy_held(trading)
        assert held >= 3
        far = round(float(sandbox.admin.state()["prices"]["SPY"]) * 1.3, 2)
        first = limit_sell(two, sandbox, held, far)
        cancel(two, sandbox, first)
        limit_sell(two, sandbox, 1, far)
        sandbox.admin.step()
        two.run_iteration()
        assert len(working_stops(trading)) == 1, "the stop placed again"
        [again] = [
            o.client_order_id
            for o in sandbox_orders(trading)
            if o.stop_price and o.status.value in ("new", "accepted", "pending_new")
        ]
        limit_sell(two, sandbox, held - 1, far)  # settles: every row as the sandbox has it
        assert working_stops(trading) == []
        row = LiveOrder.get(LiveOrder.client_order_id == again)
        assert row.status == "canceled", "the broker and the desk's report have it cancelled"
    finally:
        two.finish("stopped")
        two.broker.close()
