"""A sale by hand beside the exit a desk that ended left, filled in part and still working: the
desk cancels that exit before its sale, as its own, and the sale goes out.

Desk one (a 3% stop loss) bought SPY and stopped, its stop left working. SPY falls: the stop
triggers and fills half, the rest working (the sandbox's split fill). Desk two takes that stop
over (with a stop loss of its own: ``exit_taken_over``) or, keeping no exits, drops it before a
sale, and its trader sells what is held by hand. Before, the sale was refused:
``risk.holdings.less_sales_filled`` counted the stop's fill as another desk's sale whose fill the
positions may not show yet ("try again once they have ended"), where the desk cancels that stop
only before a sale that goes out; a strategy's sale (the same rule) waited so, cycle after cycle,
for as long as the stop's rest worked (``review32d``). Now such an exit counts as the desk's own
there, as the ones it sent do (``engine.stop_takeover.released_first``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RULE, ended_desk_alone
from tests.integration.test_stop_put_back import _held
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle


def _stop_part_filled(trading: Any) -> Any:
    """Desk one's stop, triggered and partly filled, still working (or None)."""
    for o in sandbox_orders(trading):
        if o.order_type.value == "stop" and o.status.value == "partially_filled":
            return o
    return None


@pytest.mark.parametrize("exits", [True, False], ids=["takes-it-over", "keeps-no-exits"])
def test_a_hand_sale_beside_an_ended_desks_partly_filled_stop_cancels_it_and_goes_out(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, exits: bool
) -> None:
    db = tmp_path / "desk.db"
    ended_desk_alone(sandbox, db)
    bought = _held(trading)
    assert bought >= 2, "desk one bought SPY"
    sandbox.admin.set_faults(partial_bars=500)  # the stop's rest waits, working
    engine = sandbox.sandbox.engine
    with engine.lock:
        stops = [o for o in engine.working.values() if o.ticket.type == "stop"]
        for order in stops:
            order.split_fill = True  # it fills in two parts once it triggers
    assert stops, "desk one's stop works"
    sandbox.admin.step(shock={"SPY": -15.0})  # through the 3% stop: half of it fills
    stop = _stop_part_filled(trading)
    assert stop is not None, [
        (o.client_order_id, o.order_type.value, o.status.value, o.filled_qty)
        for o in sandbox_orders(trading)
    ]
    held = _held(trading)
    assert 0 < held < bought, (bought, held)
    two = alpaca_session(
        sandbox,
        db,
        symbols=("SPY",),
        learning=LearningSettings("momentum"),
        stop_loss=RULE if exits else None,
    )
    try:
        two.run_iteration()
        settle(sandbox, two)
        if exits:
            assert two.adopted_from(stop.client_order_id), "desk two took the stop over"
        before = {o.client_order_id for o in sandbox_orders(trading)}
        two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
        report = two.apply_kill_requests()
        assert report is not None
        words = [e.action_taken for e in report.risk_events] + list(report.notes)
        assert not [w for w in words if "have sold" in w], words
        settle(sandbox, two)
        sells = [
            o
            for o in sandbox_orders(trading)
            if o.client_order_id not in before and o.side.value == "sell"
        ]
        # the shares held sold once: by the sale by hand, or (a sale's fill recorded after the
        # positions were read: ``engine.sold_since``) by the stop put back at market, the price
        # through it; never more than held
        assert sum(float(o.filled_qty or 0) for o in sells) == held, words
        assert _held(trading) == 0.0
    finally:
        two.finish("stopped")
        two.broker.close()
