"""A halt's cancel that Alpaca accepts (204) and then refuses: ``order_cancel_rejected``, the
order working again (the sandbox's ``slow_cancel_refuse_rate``).

Before, the broker took every view of an order whose cancel was pending as still cancelled, so
Alpaca's refusal changed nothing: the desk's kill switch said "cancelled 1 open order(s)", the
buy's row said ``pending_cancel`` for good, and the halted desk never tried again while Alpaca
worked the buy on, able to fill under the halt. Now the refusal is taken (the order works
again: ``brokers.alpaca_cancels.cancel_refused``) and the halt is acted on again at the next
cycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, stream_heard, working_spy_limit
from tests.integration.test_taken_over_stop_cancelled_before import MOMENTUM
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def test_a_kill_switch_cancel_alpaca_refuses_is_sent_again(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM)
    try:
        cid = working_spy_limit(desk, sandbox)
        heard = stream_heard(desk)
        sandbox.admin.set_faults(slow_cancel_rate=1, slow_cancel_refuse_rate=1)
        desk.request_kill("ops", reason="leaving for the day")
        desk.apply_kill_requests()
        assert str(trading.get_order_by_client_id(cid).status.value) == "pending_cancel"
        sandbox.admin.step()  # Alpaca refuses the cancel: the buy works again
        sandbox.admin.set_faults(reset=True)  # the next cancel goes through
        assert str(trading.get_order_by_client_id(cid).status.value) == "new"
        wait_until(lambda: "order_cancel_rejected" in heard, what="the refusal's news")
        said: list[str] = []
        for _ in range(2):
            sandbox.admin.step()
            said += desk.run_iteration().notes
        assert str(trading.get_order_by_client_id(cid).status.value) == "canceled", said
        assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "canceled"
        [note] = [n for n in said if n.startswith("the halt acted again: cancelled 1 open order")]
        assert "the broker refused the last cancel of 1 of them after accepting it" in note
    finally:
        desk.finish("stopped")
        desk.broker.close()


def test_a_cancel_alpaca_keeps_refusing_is_said_refused_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Every cancel of the halt's refused after its 204: the desk says so, once, and does not
    say "cancelled" cycle after cycle. Before, each cycle said "the halt acted again:
    cancelled 1 open order(s)" while Alpaca worked the buy on, and no word said refused."""
    desk = alpaca_session(sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM)
    try:
        cid = working_spy_limit(desk, sandbox)
        heard = stream_heard(desk)
        sandbox.admin.set_faults(slow_cancel_rate=1, slow_cancel_refuse_rate=1)
        desk.request_kill("ops", reason="leaving for the day")
        desk.apply_kill_requests()
        said: list[str] = []
        for n in range(1, 5):
            sandbox.admin.step()  # Alpaca refuses the cancel: the buy works again
            wait_until(lambda n=n: heard.count("order_cancel_rejected") >= n, what="a refusal")
            said += desk.run_iteration().notes
        assert str(trading.get_order_by_client_id(cid).status.value) == "pending_cancel"
        refused = [note for note in said if "refused" in note]
        assert len(refused) == 1, said
        assert "works on" in refused[0] and "at the broker" in refused[0], said
        assert len(said) == 1, said  # not "cancelled 1 open order(s)" in every cycle
    finally:
        desk.finish("stopped")
        desk.broker.close()
