"""A desk's stop replaced by hand (Alpaca's dashboard) and reported so by the trade stream
drops the desk's cached listing of open orders, as a look-up's find already did
(``test_replaced_stop_off_page``): the replacement, placed after that listing, is seen at the
next read.

Before, only ``get_order`` and ``look_up_many`` dropped the half-minute listing on a replaced
order; the stream's ``replaced`` event kept it. The next cycle saw its stop ended and neither
the old stop nor its replacement in the listing, sent a second stop for the position beside
the replacement, which the broker refused (the shares were held for the replacement), and the
desk said ``SPY is NOT protected: the broker rejected the exit: insufficient qty available``
while the replacement protected it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RALLY, RULE
from tests.integration.test_taken_over_stop_cancelled_before import MOMENTUM, _stops
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder


def test_a_stop_replaced_by_hand_gets_no_second_stop_beside_its_replacement(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    from alpaca.trading.requests import ReplaceOrderRequest

    desk = alpaca_session(
        sandbox, tmp_path / "desk.db", symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE
    )
    try:
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            desk.run_iteration()
        settle(sandbox, desk)
        [old] = [o for o in sandbox_orders(trading) if o.client_order_id in _stops(trading)]
        sandbox.admin.step()
        desk.broker._open_cache = None  # its half-minute listing is read now, the stop in it
        desk.run_iteration()
        assert desk.broker.feed is not None and desk.broker.feed.connected
        lower = round(float(old.stop_price) - 1.0, 2)
        trading.replace_order_by_id(old.id, ReplaceOrderRequest(stop_price=lower))  # by hand
        [new] = _stops(trading)
        assert new != old.client_order_id, "replaced at the sandbox"
        deadline = time.monotonic() + 10.0
        while desk.broker.feed.events.empty():  # the stream's "replaced" has come in
            assert time.monotonic() < deadline, "the stream never reported the replace"
            time.sleep(0.02)
        said: list[str] = []
        for _ in range(3):
            sandbox.admin.step()
            said += [e.action_taken for e in desk.run_iteration().risk_events]
            assert list(_stops(trading)) == [new], "a second stop beside the replacement"
        alarms = [a for a in said if "NOT protected" in a or "rejected" in a]
        assert alarms == [], "a second stop was tried beside the replacement (refused)"
        rejected = LiveOrder.select().where(LiveOrder.status == "rejected")
        assert [r.client_order_id for r in rejected] == []
    finally:
        desk.finish("stopped")
        desk.broker.close()
