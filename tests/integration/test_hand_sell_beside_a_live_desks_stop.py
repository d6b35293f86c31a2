"""Two desks on one account and one store: desk B (``--stop-loss``) keeps SPY's protective
stop; the trader sells SPY by hand on desk A.

Only the desk that keeps a stop cancels it and puts it back: a stop cancelled from desk A came
back only at desk B's next bar (a day on daily bars), and a stop placed by desk A beside B's
would be two stops for one position. So desk A sends nothing and leaves B's stop alone, and
says why and what the trader can do: sell on desk B, or stop desk B first (desk A's sell then
takes the ended desk's stop over, cancels it and goes out). Before, the refusal said why but
not what to do.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.broker_protection import client, open_stops, spy_held
from tests.integration.ended_stop import RALLY, RULE
from tui_trader.core.order_ids import short_key
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle


@pytest.mark.parametrize("a_exits", [False, True], ids=["a-without-exits", "a-with-exits"])
def test_a_hand_sell_beside_a_running_desks_stop_says_what_to_do_and_leaves_the_stop(
    sandbox: SandboxHandle, tmp_path: Path, a_exits: bool
) -> None:
    db = tmp_path / "k.db"
    momentum = LearningSettings("momentum")
    b = alpaca_session(sandbox, db, symbols=("SPY",), learning=momentum, stop_loss=RULE)
    a = alpaca_session(
        sandbox, db, symbols=("SPY",), learning=momentum, stop_loss=RULE if a_exits else None
    )
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            b.run_iteration()
            a.run_iteration()
        settle(sandbox, b)
        settle(sandbox, a)
        held = spy_held(sandbox)
        [stop] = open_stops(sandbox)
        assert held > 0 and float(stop.qty) == held
        assert stop.client_order_id.startswith(f"tt-{b.audit.session.key}")  # type: ignore[union-attr]
        sent = len(sandbox_orders(client(sandbox)))
        a.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
        report = a.apply_kill_requests()  # between bars: the order by hand is decided now
        assert report is not None
        [refusal] = [e.action_taken for e in report.risk_events if e.event_type == MANUAL_REFUSED]
        keeper = short_key(b.audit.session.key)  # type: ignore[union-attr]
        assert refusal.startswith(
            f"manual sell SPY not sent: its protective exit {stop.client_order_id}"
        )
        assert f"is kept by session {keeper}, which runs on this account" in refusal
        assert refusal.endswith(
            "to sell here, sell on the desk that keeps that stop, or stop that desk first (this "
            "desk's sell then takes its stop over, cancels it and goes out)"
        ), refusal
        assert len(sandbox_orders(client(sandbox))) == sent, "desk A sent nothing"
        [still] = open_stops(sandbox)
        assert (still.client_order_id, float(still.qty)) == (stop.client_order_id, held)
        assert spy_held(sandbox) == held
        b.finish("stopped")  # as the words say: stop desk B, and sell on desk A again
        a.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
        report = a.apply_kill_requests()
        assert report is not None
        assert not [e for e in report.risk_events if e.event_type == MANUAL_REFUSED]
        sandbox.admin.step()  # the market sell fills on the next bar
        settle(sandbox, a)
        assert spy_held(sandbox) == 0 and open_stops(sandbox) == []
    finally:
        for desk in (a, b):
            desk.finish("stopped")
            desk.broker.close()
