"""An order Alpaca holds for review before routing it (``pending_review``; the sandbox's
``review_rate``): answered so when it is placed, listed open while the review lasts.

The state was not among those the desk knew (nor in the OpenAPI document it was written
from), so it read as ``unknown``: the desk's buy, answered ``pending_review``, was taken for an
answer lost ("the answer was lost and the broker does not know it yet"), its row said
``unknown``, and the listing of open orders the position limit counts left it out (an order
of the desk whose state is not a working one is not shown as working). Now it is a working
order (``new``), as Alpaca's other states of an order not done yet are (``accepted``,
``accepted_for_bidding``, ``held``, ``stopped``, ``calculated``, ``suspended``): counted,
followed, never taken as filled or gone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_alpaca_trading import RALLY
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def test_a_buy_alpaca_holds_for_review_is_followed_as_working(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The rally's buy held for review: its row says new, the desk says nothing of a lost
    answer, the open orders hold it (the position limit counts it) and SPY waits for it; at
    the next bar it fills, once."""
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",))
    try:
        sandbox.admin.set_faults(review_rate=1)
        notes: list[str] = []
        for _ in range(12):
            sandbox.admin.step(shock=RALLY)
            report = desk.run_iteration()
            notes += report.notes if report is not None else []
            if LiveOrder.select().count():
                break
        [row] = LiveOrder.select()
        held = trading.get_order_by_client_id(row.client_order_id)
        assert str(held.status.value) == "pending_review"
        assert row.status == "new"
        assert not [n for n in notes if "answer was lost" in n], notes
        listed = {o.client_order_id: o for o in desk.broker.open_orders()}
        assert row.client_order_id in listed, "the position limit counts it"
        assert listed[row.client_order_id].status.is_open
        assert "SPY" in desk.broker.working_symbols()
        sandbox.admin.clear_faults()
        sandbox.admin.step(shock=RALLY)
        desk.run_iteration()
        settle(sandbox, desk)
        assert LiveOrder.get(LiveOrder.client_order_id == row.client_order_id).status == "filled"
        assert sandbox.admin.state()["positions"]["SPY"] == float(held.qty)
    finally:
        desk.finish("stopped")
        desk.broker.close()
