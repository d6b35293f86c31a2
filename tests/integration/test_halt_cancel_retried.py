"""A halt whose cancel the broker did not answer cancels again once it answers.

A kill switch pressed while the broker is silent (a 429 pause, a dropped connection) halted
trading and said "open orders may still be working", but no cycle ever tried the cancel again:
a working limit order went on working after the halt and filled when the price reached it,
buying shares the person had just stopped. The halt now stays unfinished until its cancels
went through, and the next cycle (or wake) acts on it again, saying so. So does a halt whose
"cancel all orders" Alpaca answered with a refusal for an order (a 500 in its 207).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from requests import ConnectionError as Dropped

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, working_spy_limit
from tests.integration.test_alpaca_trading import client_for
from tui_trader.brokers import BrokerError
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import RiskEventRow


def test_a_kill_the_broker_missed_cancels_the_working_order_once_it_answers(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "k.db")
    client = session.broker.client
    try:
        sandbox.admin.step()
        session.run_iteration()  # a calm bar: the desk's day is open
        price = float(sandbox.admin.state()["prices"]["SPY"])
        limit = round(price * 0.97, 2)
        session.request_manual_order(
            ManualOrder("SPY", Side.BUY, qty=7, order_type=OrderType.LIMIT, limit_price=limit)
        )
        [order] = session.apply_kill_requests().orders
        assert order.status.is_open  # working, 3% below the market

        cancels = (client.cancel_orders, client.cancel_order_by_id)

        def silent(*args: Any, **kwargs: Any) -> Any:
            raise Dropped("connection dropped")

        # the broker does not answer the halt's cancel (all at once, or order by order)
        client.cancel_orders = client.cancel_order_by_id = silent
        session.request_kill(reason="test")
        killed = session.apply_kill_requests()
        [halt] = [e for e in killed.risk_events if e.halts]
        assert "open orders may still be working" in halt.action_taken
        assert killed.halt.endswith("the broker did not answer the cancel, retrying)")
        assert sandbox.admin.state()["orders"]["open"] == 1

        client.cancel_orders, client.cancel_order_by_id = cancels  # it answers again
        again = session.apply_kill_requests()  # the runner calls it after every wait
        assert again is not None, "nothing tried the halt's cancel again"
        assert any("the halt acted again" in note for note in again.notes), again.notes
        assert "may still be working" not in again.halt  # the halt line: done
        assert sandbox.admin.state()["orders"]["open"] == 0
        assert session.apply_kill_requests() is None  # done: not tried a third time

        sandbox.admin.step(shock={"SPY": -5.0})  # the price falls through the old limit
        session.run_iteration()
        assert filled_by_order() == {}
        assert client_for(sandbox).get_all_positions() == []
    finally:
        session.broker.close()


def test_a_cancel_the_broker_refused_is_tried_again(sandbox: SandboxHandle, tmp_path: Path) -> None:
    """Alpaca's "cancel all orders" answers 207 with a status per order: 500 for one it could
    not cancel ("no longer cancelable", or busy being replaced), which may go on working. The
    halt took only the 200s as cancelled and was done: it said "cancelled 0 open order(s)" and
    the working limit filled when the price came down to it. It now says the broker refused,
    stays unfinished, and cancels again once the broker takes it."""
    session = alpaca_session(sandbox, tmp_path / "r.db")
    try:
        working_spy_limit(session, sandbox, qty=7)
        sandbox.admin.set_faults(cancel_refuse_rate=1)  # the next "cancel all" cancels nothing
        session.request_kill(reason="test")
        killed = session.apply_kill_requests()
        [halt] = [e for e in killed.risk_events if e.halts]
        assert "the broker refused to cancel 1 order(s)" in halt.action_taken, halt.action_taken
        assert sandbox.admin.state()["orders"]["open"] == 1

        sandbox.admin.clear_faults()
        again = session.apply_kill_requests()  # the runner calls it after every wait
        assert again is not None, "nothing tried the halt's cancel again"
        assert any("the halt acted again" in note for note in again.notes), again.notes
        assert sandbox.admin.state()["orders"]["open"] == 0
        assert session.apply_kill_requests() is None  # done: not tried a third time

        sandbox.admin.step(shock={"SPY": -5.0})  # the price falls through the old limit
        session.run_iteration()
        assert filled_by_order() == {}
    finally:
        session.broker.close()


def test_a_cancel_refused_order_by_order_is_tried_again(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A halt that keeps an order (one placed outside the desk) cancels the desk's one by one.
    Alpaca answers 422 "not cancelable" for a working order it will not cancel now (one being
    replaced), as for one that has just filled. The halt took every 422 for "already done":
    the limit went on working. It now looks such an order up: still working, the refusal is
    said and the halt cancels again at the next wake."""
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import LimitOrderRequest

    session = alpaca_session(sandbox, tmp_path / "one.db")
    try:
        working_spy_limit(session, sandbox, qty=7)
        client_for(sandbox).submit_order(  # placed by hand at the broker: the halt keeps it
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=1.0,
            )
        )
        sandbox.admin.set_faults(cancel_refuse_rate=1)  # each cancel answered 422
        session.request_kill(reason="test")
        killed = session.apply_kill_requests()
        [halt] = [e for e in killed.risk_events if e.halts]
        assert "the broker refused to cancel 1 order(s)" in halt.action_taken, halt.action_taken
        assert sandbox.admin.state()["orders"]["open"] == 2

        sandbox.admin.clear_faults()
        again = session.apply_kill_requests()
        assert again is not None, "nothing tried the halt's cancel again"
        assert any("the halt acted again" in note for note in again.notes), again.notes
        assert sandbox.admin.state()["orders"]["open"] == 1, "the hand order alone works on"
        assert session.apply_kill_requests() is None
    finally:
        session.broker.close()


def test_a_halt_decided_in_a_cycle_the_broker_does_not_answer_is_written_once(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A kill switch taken by a bar's cycle (not between bars) whose cancel the broker does not
    answer: the cycle fails (the runner's outage path takes it), and the halt, held in memory
    and merged into the account's row, was missing from the account's history: no
    ``manual_kill`` row at all, no alert. It is now written as the cycle fails, saying what may
    still be working, and only once: the next cycle's cancel is a note, not a second halt."""
    session = alpaca_session(sandbox, tmp_path / "c.db")
    client = session.broker.client
    try:
        working_spy_limit(session, sandbox, qty=7)
        cancels = (client.cancel_orders, client.cancel_order_by_id)

        def silent(*args: Any, **kwargs: Any) -> Any:
            raise Dropped("connection dropped")

        client.cancel_orders = client.cancel_order_by_id = silent
        session.request_kill(reason="test")
        sandbox.admin.step()
        with pytest.raises(BrokerError):
            session.run_iteration()
        halts = RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL)
        [halt] = [row.action_taken for row in halts]
        assert "the broker did not answer (open orders may still be working)" in halt, halt
        assert sandbox.admin.state()["orders"]["open"] == 1

        client.cancel_orders, client.cancel_order_by_id = cancels  # it answers again
        sandbox.admin.step()
        again = session.run_iteration()
        assert any("the halt acted again" in note for note in again.notes), again.notes
        assert sandbox.admin.state()["orders"]["open"] == 0
        assert [e.event_type for e in again.risk_events if e.halts] == []
        assert RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL).count() == 1
    finally:
        session.broker.close()
