"""A hand order placed on an Alpaca desk that has started but not yet run its first cycle.

The account's order count for the day is kept by trading day, and a desk takes its day at its
first cycle. An order by hand before it found no day to count in, and its refusal said
``refused buy 5 SPY: 0 orders sent today on this account (all its sessions)``: as if the day's
limit had been reached at 0 (``holds32``). The refusal now says why, and the same order goes
once the first cycle has run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, run_steps, sandbox_orders
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.sandbox.testing import SandboxHandle


def _hand_buy(session: Any) -> list[str]:
    """Buy 5 SPY by hand; what the desk says of it."""
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=5))
    report = session.apply_kill_requests()
    assert report is not None
    return [e.action_taken for e in report.risk_events] + list(report.notes)


def test_a_hand_order_before_the_first_cycle_says_the_desk_has_not_cycled_yet(
    sandbox: SandboxHandle, tmp_path: Path, trading: Any
) -> None:
    session = alpaca_session(sandbox, tmp_path / "desk.db")
    try:
        session.sync_orders()  # the stream's start-up back-fill done: only the day is missing
        said = _hand_buy(session)
        assert said == [
            "refused buy 5 SPY: the desk has not run its first cycle yet (the account's order "
            "count for the day starts there); send it again once the first cycle has run"
        ], said
        assert sandbox_orders(trading) == []  # nothing sent
        run_steps(sandbox, session, 1)
        _hand_buy(session)
        assert [(o.symbol, float(o.qty)) for o in sandbox_orders(trading)] == [("SPY", 5.0)]
    finally:
        session.finish("stopped")
