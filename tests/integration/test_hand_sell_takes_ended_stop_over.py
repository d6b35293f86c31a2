"""A sell by hand, between bars, by a desk that keeps exits, beside the stop a desk that has
just ended left: the stop is taken over at once, cancelled, and the sell goes out.

Desk one (``--stop-loss``) held SPY's exit while it ran; desk two (``--stop-loss`` too) left it
to desk one, said. Desk one ends between two bars. Before, a sell by hand on desk two before
the next bar was held back and told "its protective exit ... is kept by another session":
desk two's reading of who is alive dated from its last bar, when desk one still ran (it took
the stop over at the next bar). Now taking over an ended session's exit reads who is alive
again: the stop is desk two's at once (``exit_taken_over``), and the sell goes out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RALLY, RULE
from tests.integration.test_stop_put_back import _held, _stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def test_a_hand_sell_between_bars_takes_over_the_stop_of_a_desk_that_just_ended(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    momentum = LearningSettings("momentum")
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=momentum, stop_loss=RULE)
    two = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=momentum, stop_loss=RULE, settle_window=0.5
    )
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            one.run_iteration()
            two.run_iteration()
        settle(sandbox, one)
        [(stop, _qty, _price)] = _stops(trading)
        held = _held(trading)
        assert held > 0 and stop.startswith(f"tt-{one.audit.session.key}")  # type: ignore[union-attr]
        one.finish("stopped")  # between two bars
        one.broker.close()

        two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
        report = two.apply_kill_requests()  # between bars: the hand order goes out now
        assert report is not None
        words = [e.action_taken for e in report.risk_events] + list(report.notes)
        assert not [w for w in words if "kept by another session" in w], words
        assert [e.event_type for e in report.risk_events] == ["exit_taken_over"], words
        assert LiveOrder.get(LiveOrder.client_order_id == stop).status == "canceled"
        settle(sandbox, two)
        [sell] = [o for o in sandbox_orders(trading) if o.client_order_id.endswith("-SPY-m1")]
        assert (sell.side.value, float(sell.qty), sell.status.value) == ("sell", held, "filled")
        assert _stops(trading) == []
    finally:
        two.finish("stopped")
        two.broker.close()
