"""A desk that adopts the account's halt without flattening leaves another desk's flatten close
working: the kill switch's flatten goes on to the end.

Desk one (no ``--flatten-on-halt``) holds SPY; desk two, on its store and account, halts with
flatten: its close fills half and works on. Desk one's next cycle adopts the halt and cancels
the desk's open orders. Before, that cancel took desk two's close off too (a halt's cancel kept
flatten closes only at a desk's end, or in a flatten of its own): the kill switch asked to close
SPY and half of it stayed held (found by ``holds32``). Now another desk's flatten close is left
working by every halt's cancel, as a flatten already left it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tests.integration.ended_stop import spy_held
from tests.integration.test_flatten_never_shorts import rally_until_bought
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle, wait_until


def _close(trading: Any, key: str) -> Any:
    """Desk ``key``'s flatten close of SPY, as the sandbox has it."""
    [close] = [
        o
        for o in sandbox_orders(trading)
        if f"{key}-" in o.client_order_id and "-flat" in o.client_order_id
    ]
    return close


def test_a_desk_adopting_the_halt_leaves_another_desks_flatten_close_working(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    one = alpaca_session(sandbox, db, symbols=("SPY",))
    two = None
    try:
        rally_until_bought(sandbox, one, trading)
        held = spy_held(trading)
        assert held > 0, "desk one bought SPY"
        two = alpaca_session(sandbox, db, symbols=("SPY",), learning=LearningSettings("momentum"))
        two.sync_orders()
        wait_until(lambda: two.broker.trading_ready() is None, what="desk two's stream")
        sandbox.admin.set_faults(partial_rate=1.0, partial_bars=3)  # half now, half 3 bars on
        two.request_kill(reason="test", flatten=True)
        assert two.apply_kill_requests() is not None
        sandbox.admin.set_faults(partial_rate=0.0)
        assert 0 < spy_held(trading) < held, "desk two's close filled in part, still works"
        key = two.audit.session.key
        one.run_iteration()  # adopts the account's halt: cancels the desk's open orders
        assert one.risk.state.halted
        close = _close(trading, key)
        assert close.status.value == "partially_filled", "desk one cancelled desk two's close"
        sandbox.admin.step(bars=3)  # the close's rest fills
        wait_until(lambda: spy_held(trading) == 0, what="the flatten's end")
    finally:
        for desk in (one, two):
            if desk is not None:
                desk.finish("stopped")
                desk.broker.close()
