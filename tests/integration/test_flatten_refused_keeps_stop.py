"""A kill that flattens, whose close the broker refuses, leaves the position with its stop.

A halt that flattens cancels the positions' protective stops first (the closing sells need
their shares), then sends the closes. When the broker refuses a close (an account whose trading
is suspended for the moment of the sell), the position is still held and its stop is gone: the
end of that same cycle places it again (a protective order passes the gate while the account is
halted), and every later pass of the flatten, which cancels it again before its close, does the
same. The position is never left a cycle without its stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import sandbox_orders
from tests.integration.broker_protection import buy_and_protect, open_stops
from tests.integration.test_stop_put_back import _held, _sells_refused, _stops
from tui_trader.core.domain import TradingState
from tui_trader.sandbox.testing import SandboxHandle


def test_a_refused_flatten_close_leaves_the_position_its_stop_in_that_cycle(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    desk = buy_and_protect(sandbox, tmp_path / "desk.db", protected=open_stops, shock=1.0)
    try:
        [(first, qty, _price)] = _stops(trading)
        held = _held(trading)
        assert qty == held > 0
        with _sells_refused(sandbox, desk) as refused:
            desk.request_kill(flatten=True)
            sandbox.admin.step()
            report = desk.run_iteration()
            assert report.state is TradingState.HALTED
            assert len(refused) == 1, "the flatten sent its close"
            assert _held(trading) == held
            [(again, again_qty, _)] = _stops(trading)
            assert again != first and again_qty == held, "the stop back in the kill's cycle"
            cancelled = [o for o in sandbox_orders(trading) if o.client_order_id == first]
            assert [o.status.value for o in cancelled] == ["canceled"]
            assert not [e for e in report.risk_events if e.event_type == "protective_stop"]
            sandbox.admin.step()
            desk.run_iteration()  # the flatten acted on again: its close refused again
            assert len(refused) == 2 and _held(trading) == held
            [(third, third_qty, _)] = _stops(trading)
            assert third != again and third_qty == held, "the stop back after the second pass"
    finally:
        desk.finish("stopped")
        desk.broker.close()
