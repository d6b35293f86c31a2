"""A stop sized from a position read taken just before another desk's sale emptied it: the desk
keeping the exits places no sell stop on the zero shares left (had it triggered, it would have
opened a short on the account).

Desk one (``--stop-loss``) holds SPY; its stop is gone (cancelled at the broker), so its next
cycle places one. Desk two, which keeps no exits, sells SPY by hand on the same account and
store. A desk reads the orders other desks placed at most every half minute
(``brokers.alpaca_reads``), so desk one's listing does not show desk two's sale: in the
``crash28`` campaign a sell stop sat 0.9 s on an emptied position that way. Both cases of the
sale: filled between desk one's read of the positions and its stop, and still working.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders, settle
from tests.integration.ended_stop import RALLY, RULE, limit_sell, spy_held, working_stops
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until

MOMENTUM = LearningSettings("momentum")
"""Both desks follow momentum alone: a rally makes desk one buy SPY."""


def _held_without_its_stop(sandbox: SandboxHandle, trading: Any, db: Path) -> TradingSession:
    """Desk one buys SPY in a rally with its stop; the stop is then cancelled at the broker."""
    one = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
    for _ in range(6):
        sandbox.admin.step(shock=RALLY)
        one.run_iteration()
    settle(sandbox, one)
    assert spy_held(trading) > 5 and len(working_stops(trading)) == 1
    sandbox.admin.step()
    one.run_iteration()  # its listing of the account's open orders: its own stop alone
    [stop] = [o for o in sandbox_orders(trading) if o.order_type.value == "stop"]
    trading.cancel_order_by_id(stop.id)
    wait_until(lambda: working_stops(trading) == [], what="the cancel")
    settle(sandbox, one)
    return one


def _desk_without_exits(sandbox: SandboxHandle, db: Path) -> TradingSession:
    """Desk two, which keeps no exits, on the same store and account, its stream caught up."""
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    two.sync_orders()
    wait_until(lambda: two.broker.trading_ready() is None, what="desk two's stream")
    return two


def test_no_stop_on_a_position_another_desk_sold_after_it_was_read(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two's sale of every share fills right after desk one reads the positions to size
    its stop: no stop is left on the emptied position, and none goes out next cycle."""
    db = tmp_path / "desk.db"
    one = _held_without_its_stop(sandbox, trading, db)
    two = _desk_without_exits(sandbox, db)
    held = spy_held(trading)
    read = one.broker.positions

    def sold_after_the_read() -> Any:
        """The positions as read; then, once, desk two's sale of them all fills."""
        found = read()
        if sys._getframe(1).f_code.co_name == "_protect_each" and spy_held(trading) > 0:
            two.request_manual_order(ManualOrder("SPY", Side.SELL, qty=held))
            assert two.apply_kill_requests() is not None
            settle(sandbox, two)
            assert spy_held(trading) == 0
        return found

    one.broker.positions = sold_after_the_read  # type: ignore[method-assign]
    try:
        sandbox.admin.step()
        one.run_iteration()
        settle(sandbox, one)
        assert spy_held(trading) == 0
        assert working_stops(trading) == [], "a sell stop on no shares: a short if it fills"
        sandbox.admin.step()
        one.run_iteration()
        settle(sandbox, one)
        assert working_stops(trading) == [] and spy_held(trading) == 0
    finally:
        for desk in (one, two):
            desk.finish("stopped")
            desk.broker.close()


def test_the_stop_covers_what_another_desks_working_sale_leaves(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Desk two's limit sell of 5 shares works, out of desk one's listing: desk one's stop is
    for the shares that sale leaves, which the broker accepts (a stop for all of them it
    refuses: the sale holds 5), so those shares are protected at once."""
    db = tmp_path / "desk.db"
    one = _held_without_its_stop(sandbox, trading, db)
    two = _desk_without_exits(sandbox, db)
    held = spy_held(trading)
    try:
        limit_sell(two, sandbox, 5, 10_000.0)
        sandbox.admin.step()
        one.run_iteration()
        settle(sandbox, one)
        assert [qty for qty, _price in working_stops(trading)] == [held - 5]
    finally:
        for desk in (one, two):
            desk.finish("stopped")
            desk.broker.close()


def test_the_stop_covers_what_a_just_stopped_desks_working_sale_leaves(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """As above, desk two stopping right after its sale (a GTC limit works on at the broker,
    out of desk one's listing). Before, only live desks' sales were read: desk one's stop was
    for every share held, refused by the broker (the sale holds 5), and the desk said ``SPY is
    NOT protected`` (``crash30``); now the just-ended desk's sale is left out as a live one's."""
    db = tmp_path / "desk.db"
    one = _held_without_its_stop(sandbox, trading, db)
    two = _desk_without_exits(sandbox, db)
    held = spy_held(trading)
    try:
        limit_sell(two, sandbox, 5, 10_000.0)
        two.finish("stopped")  # its sale left working at the broker
        two.broker.close()
        sandbox.admin.step()
        said = [e.action_taken for e in one.run_iteration().risk_events]
        settle(sandbox, one)
        assert [a for a in said if "NOT protected" in a] == []
        assert [qty for qty, _price in working_stops(trading)] == [held - 5]
    finally:
        one.finish("stopped")
        one.broker.close()
