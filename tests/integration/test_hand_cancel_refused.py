"""A cancel by hand that Alpaca answers 204 and refuses afterwards (``order_cancel_rejected``,
the sandbox's ``slow_cancel_refuse_rate``): the order works on.

Before, nothing said so: the user pressed cancel on a working limit buy, its row said
``pending_cancel``, then ``new`` again, and the only words were "the strategies wait while a
hand order works": the buy they had cancelled worked on at Alpaca, able to fill. Now the
refusal is said (``engine.records.cancel_refused_words``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, stream_heard, working_spy_limit
from tests.integration.test_taken_over_stop_cancelled_before import MOMENTUM
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def test_a_hand_cancel_alpaca_refuses_after_its_204_is_said(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM)
    try:
        cid = working_spy_limit(desk, sandbox)
        heard = stream_heard(desk)
        sandbox.admin.set_faults(slow_cancel_rate=1, slow_cancel_refuse_rate=1)
        desk.request_cancel(cid)
        desk.apply_kill_requests()
        assert str(trading.get_order_by_client_id(cid).status.value) == "pending_cancel"
        sandbox.admin.step()  # Alpaca refuses the cancel: the buy works again
        sandbox.admin.set_faults(reset=True)
        wait_until(lambda: "order_cancel_rejected" in heard, what="the refusal's news")
        said = desk.run_iteration().notes
        assert str(trading.get_order_by_client_id(cid).status.value) == "new"
        assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "new"
        refused = [note for note in said if "refused the cancel" in note]
        assert len(refused) == 1, said
        assert cid in refused[0] and "buy 10 SPY" in refused[0], said
        assert "works on" in refused[0], said
        sandbox.admin.step()
        assert not [n for n in desk.run_iteration().notes if "refused" in n], "said once"
    finally:
        desk.finish("stopped")
        desk.broker.close()
