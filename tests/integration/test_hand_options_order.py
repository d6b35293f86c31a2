"""A multi-leg options order placed by hand on the account a desk trades (a spread, in Alpaca's
web page; the sandbox's ``/admin/options_order``).

Alpaca lists such an order (``order_class`` ``mleg``) with the account's orders and announces
it on the trade stream, and its top level names no symbol and no side: its legs do. The desk
read it as one of its own kind, and ``Side(None)`` raised ``ValueError`` out of the cycle: a
``live paper`` desk halted and ended with a traceback at the stream's ``new``, and its next
start failed the same way (reconciliation lists the open orders) for as long as the spread
worked. Now such an order is left out of what the desk reads (``alpaca_orders.one_contract``):
the desk trades on, its kill switch cancels the desk's own orders and keeps the spread (an
order placed outside the desk), and a new start reconciles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, working_spy_limit
from tests.integration.test_taken_over_stop_cancelled_before import MOMENTUM
from tui_trader.sandbox.testing import SandboxHandle, wait_until

SPREAD = [("SPY261218C00500000", "buy"), ("SPY261218C00510000", "sell")]
"""A call spread on SPY: two option contracts, one bought, one sold."""


def _status(trading: Any, order_id: str) -> str:
    """An order's status at the broker, by its id."""
    return str(trading.get_order_by_id(order_id).status.value)


def test_a_hand_options_spread_neither_crashes_the_desk_nor_is_cancelled_by_its_halt(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    db = tmp_path / "desk.db"
    desk = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    try:
        for _ in range(2):
            sandbox.admin.step()
            desk.run_iteration()
        spread = sandbox.admin.options_order(SPREAD)
        assert desk.broker.feed is not None
        wait_until(lambda: desk.broker.feed.events.qsize() >= 2, what="the spread's news")
        for _ in range(2):
            sandbox.admin.step()
            desk.broker._open_cache = None  # type: ignore[attr-defined]  # listed afresh
            desk.run_iteration()  # raised ValueError: 'None' is not a valid Side
        assert desk.risk.state.state.value == "active"
        mine = working_spy_limit(desk, sandbox)
        desk.request_kill("ops", reason="leaving for the day")
        desk.apply_kill_requests()
        assert str(trading.get_order_by_client_id(mine).status.value) == "canceled"
        assert _status(trading, spread["id"]) == "new", "the hand spread was kept"
    finally:
        desk.finish("stopped")
        desk.broker.close()
    again = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)  # raised too
    try:
        sandbox.admin.step()
        again.run_iteration()
        assert _status(trading, spread["id"]) == "new"
    finally:
        again.finish("stopped")
        again.broker.close()
