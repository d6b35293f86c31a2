"""Another desk's buy that ended, still shown by the half-minute-old listing of the desk keeping
exits: that desk protects the shares at its next cycle, not half a minute later.

A desk reads the account's open orders placed by other desks at most every half minute while
its stream runs (``brokers.alpaca_reads``). The desk keeping exits places no stop beside a buy
that works in the symbol (Alpaca refuses a sell stop beside a working buy as a wash trade). In
the ``crash28b`` campaign a desk without exits had a buy working (a partial fill) when the desk
keeping exits listed the orders; a halt then cancelled that buy, and the desk keeping exits,
its listing still showing the buy working, placed no stop and said nothing: 4 s of its cycles
with the account's shares bare (the halt lifted, that desk's next buys then kept them so), up
to half a minute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RALLY, RULE, cancel, spy_held, working_stops
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle

MOMENTUM = LearningSettings("momentum")
"""Both desks follow momentum alone: a rally makes desk two buy SPY."""


def test_a_stop_goes_out_once_another_desks_listed_buy_has_ended(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two (no exits) buys SPY in a rally, its buy half filled and working when desk one
    (exits) lists the orders; once that buy is cancelled, desk one's next cycle places the
    stop for the shares held."""
    db = tmp_path / "desk.db"
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    one = None
    try:
        sandbox.admin.set_faults(partial_rate=1, partial_bars=1000)  # half now, the rest later
        for _ in range(6):
            sandbox.admin.step(shock=RALLY)
            two.run_iteration()
        settle(sandbox, two)
        [buy] = [o.client_order_id for o in sandbox_orders(trading) if o.status.value != "filled"]
        held = spy_held(trading)
        one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
        sandbox.admin.step()  # (its start listed the orders: desk two's buy works)
        one.run_iteration()  # no stop beside that buy
        settle(sandbox, one)
        assert held > 0 and spy_held(trading) == held and working_stops(trading) == []
        cancel(two, sandbox, buy)
        sandbox.admin.step()
        one.run_iteration()
        settle(sandbox, one)
        assert spy_held(trading) == held
        assert [qty for qty, _price in working_stops(trading)] == [held]
    finally:
        for desk in (one, two):
            if desk is None:
                continue
            desk.finish("stopped")
            desk.broker.close()
