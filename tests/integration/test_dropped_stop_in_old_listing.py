"""A stop a desk without exits took over and cancelled, still shown by another desk's
half-minute-old listing: the desk with exits protects the shares at its next cycle.

A desk reads the account's open orders placed by other desks at most every half minute while
its stream runs (``brokers.alpaca_reads``). Desk one (``--stop-loss``) held SPY with its stop
and ended; desk two, which keeps no exits, sold part of SPY: it took desk one's stop over (the
stop's row is desk two's now) and cancelled it, said (`what the sell leaves ... has no
protective exit`). Desk three, with exits, still listed that stop and took it for desk two's
working exit: it placed no stop of its own and held its orders in SPY back (`its protective
exit ... is kept by session ..., which runs on this account`) until its listing came round
again. In the ``crash28`` campaign (a frozen desk's stops taken over) SPY's shares stayed
without a stop 6.5 s that way, with a desk keeping exits alive beside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.ended_stop import RALLY, RULE, spy_held, working_stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle

MOMENTUM = LearningSettings("momentum")
"""Every desk follows momentum alone: a rally makes desk one buy SPY."""


def test_a_stop_cancelled_by_a_desk_without_exits_is_not_taken_for_a_working_one(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """After desk two's sale, desk three's next cycle places a stop for every SPY share left,
    though its listing still shows the cancelled one."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
    settle(sandbox, one)
    assert spy_held(trading) > 5 and len(working_stops(trading)) == 1
    three = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)  # the models' store
    try:
        sandbox.admin.step()
        one.run_iteration()
        three.run_iteration()  # its listing of the account's open orders: desk one's stop
        one.finish("stopped")
        one.broker.close()
        sandbox.admin.step()
        two.run_iteration()
        two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=5))
        report = two.apply_kill_requests()
        assert report is not None
        settle(sandbox, two)
        held = spy_held(trading)
        assert held > 0 and working_stops(trading) == [], "desk two sold 5, its rest unprotected"
        sandbox.admin.step()
        three.run_iteration()
        settle(sandbox, three)
        assert [qty for qty, _price in working_stops(trading)] == [held]
    finally:
        for desk in (two, three):
            desk.finish("stopped")
            desk.broker.close()
