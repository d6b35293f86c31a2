"""The kill switch pressed while a cycle sends its orders stops the orders not sent yet.

ctrl+k (any thread) asks the session's worker to halt; the worker took the press at its cycle's
halt step only. A press landing while the cycle's rebalance sent its orders (one after another,
each waiting on Alpaca's request budget at the day's start: seconds for a few dozen) let every
order left in that rebalance go out after it, and the hand orders waiting for the cycle after
them. Now the rebalance looks before each order and stops there, the hand orders wait, and the
press halts the session at its next pass. A local session buying three symbols at its first
cycle, a hand buy waiting, the press landing as the first order is sent.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BuyAndHold, make_session
from tui_trader.core.orders import Order, OrderRequest, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.gate import MANUAL_KILL


def test_a_press_during_the_rebalance_sends_nothing_more(tmp_path: Path) -> None:
    """Three buys due and a hand buy waiting; the press lands while the first is sent.
    Before: all four went out. Now only the first (already on its way); the next cycle halts
    with ``manual_kill`` and refuses the hand buy."""
    session = make_session(tmp_path / "desk.db", strategies=[BuyAndHold()], allocation_pct=5.0)
    broker = session.broker
    submit = broker.submit
    sent: list[str] = []

    def pressed_while_sending(request: OrderRequest) -> Order:
        sent.append(request.symbol)
        if len(sent) == 1:
            session.request_kill(who="test")  # the desk's ctrl+k, from the UI thread
        return submit(request)

    broker.submit = pressed_while_sending  # type: ignore[method-assign]
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
    report = session.run_iteration()
    assert sent, "the desk sent nothing"
    assert len(sent) == 1, f"orders sent after the kill switch was pressed: {sent[1:]}"
    assert any("kill switch" in note for note in report.notes), report.notes
    after = session.run_iteration()
    assert session.risk.state.halted
    assert [e for e in after.risk_events if e.event_type == MANUAL_KILL]
    assert len(sent) == 1, sent
