"""An ended desk's stop that its desk had replaced, still shown by a half-minute-old listing: a
desk without exits leaves it alone (its close goes out) and never puts it back.

A desk reads the account's open orders placed by other desks at most every half minute while
its stream runs (``brokers.alpaca_reads``). Desk one (``--stop-loss``) sold part of SPY, so its
stop was replaced by a smaller one, and stopped; desk two, which keeps no exits, closed SPY by
hand with the older listing: it took the replaced stop over, its cancel answered "nothing to
cancel", and the close was refused ("the cancel of its protective stop ... is not confirmed")
though the real stop was there to cancel. That stop was then followed as a cancel of desk two's
whose answer was lost: at a later cycle it was placed again, at desk one's old price, on the
position desk two had bought since ("placed again for 19 shares"). In a campaign of desks with
and without exits (``crash27``) such a put-back came beside the other exits' own: two exits on
one position.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RALLY, RULE, spy_held, working_stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle

MOMENTUM = LearningSettings("momentum")
"""Both desks follow momentum alone: a rally makes them buy SPY."""


def test_a_replaced_stop_in_an_old_listing_is_left_alone_and_never_put_back(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two's close by hand goes out beside the stop that really works (taken over and
    cancelled, said), not refused over the replaced one; when desk two buys SPY again, no stop
    of desk one's comes back on those shares, and desk one's replaced stop stays its own."""
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
    settle(sandbox, one)
    [old] = [o.client_order_id for o in sandbox_orders(trading) if o.stop_price]
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    try:
        sandbox.admin.step()
        one.run_iteration()
        two.run_iteration()  # its listing of the account's open orders: desk one's stop
        _sell_five_by_hand(one)
        settle(sandbox, one)
        one.finish("stopped")
        one.broker.close()
        sandbox.admin.step()
        two.run_iteration()  # desk one ended: its stops are taken over with the symbol
        held = spy_held(trading)
        [(qty, _price)] = working_stops(trading)
        assert qty == held > 0 and old not in _working(trading), "desk one's stop was replaced"
        two.request_close("SPY")
        report = two.apply_kill_requests()
        assert report is not None
        refused = [e.action_taken for e in report.risk_events if "not sent" in e.action_taken]
        assert refused == [], refused
        settle(sandbox, two)
        assert spy_held(trading) == 0, "the close went out"
        for _ in range(4):
            sandbox.admin.step(shock=RALLY)
            notes = two.run_iteration().notes
            assert not [n for n in notes if old in n], notes
        assert spy_held(trading) > 0, "desk two bought SPY again"
        assert working_stops(trading) == [], "desk two keeps no exits: no stop on its shares"
    finally:
        two.finish("stopped")
        two.broker.close()


def _sell_five_by_hand(desk: Any) -> None:
    """Desk one sells 5 SPY by hand: its stop is cancelled and placed again for the rest."""
    desk.request_manual_order(ManualOrder("SPY", Side.SELL, qty=5))
    assert desk.apply_kill_requests() is not None


def _working(trading: Any) -> list[str]:
    """The client ids of the orders working at the sandbox."""
    return [
        o.client_order_id
        for o in sandbox_orders(trading)
        if o.status.value in ("new", "accepted", "pending_new")
    ]
