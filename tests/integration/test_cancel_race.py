"""A cancel Alpaca accepts while the order fills anyway.

Alpaca answers a cancel with 204 and cancels asynchronously: the order can still fill at the
exchange before the cancel reaches it. The broker reported the order cancelled at once and,
while the trade-updates stream was down (or reconnecting), polled only orders it did not think
final: the fill that won the race never reached the audit trail, and the next start's
reconciliation skipped the row too (it was final), so the shares stayed unexplained. Now the
row stays ``pending_cancel`` until Alpaca's word, and a desk that stops in between leaves the
next start a row to look up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, endpoint_for, filled_by_order
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.reconcile import RECONCILIATION
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store.models import LiveOrder


def test_a_fill_that_beats_an_accepted_cancel_is_still_recorded(
    sandbox: SandboxHandle, trading: Any
) -> None:
    broker = AlpacaBroker(endpoint_for(sandbox), use_stream=False, require_open_market=False)
    try:
        price = float(sandbox.admin.state()["prices"]["SPY"])
        request = OrderRequest(
            "SPY",
            Side.BUY,
            7,
            client_order_id="tt-race-1-SPY-r",
            order_type=OrderType.LIMIT,
            limit_price=round(price * 0.97, 2),
        )
        assert broker.submit(request).status.is_open
        assert all(u.fill is None for u in broker.drain_updates())  # working, 3% below
        # Alpaca takes the cancel (204) but the exchange fills the order first.
        broker.client.cancel_order_by_id = lambda order_id: None
        cancelled = broker.cancel(request.client_order_id)
        assert cancelled is not None and cancelled.status is OrderStatus.CANCELED
        assert "SPY" in broker.working_symbols()  # a fill may still come
        sandbox.admin.step(shock={"SPY": -5.0})  # the price falls through the limit
        updates = broker.drain_updates()
        fills = [u.fill for u in updates if u.fill is not None]
        assert [(f.symbol, f.qty) for f in fills] == [("SPY", 7)]
        assert updates[-1].order.status is OrderStatus.FILLED
        assert "SPY" not in broker.working_symbols()
        assert broker.drain_updates() == []  # the broker's word came: no more look-ups
    finally:
        broker.close()


def _cancel_a_working_spy_limit(session: Any, sandbox: SandboxHandle, reaches: bool) -> str:
    """Place a buy limit 3% below SPY, then cancel it (Alpaca answers 204); unless
    ``reaches``, the cancel never reaches the exchange before the order fills."""
    sandbox.admin.step()
    assert session.run_iteration().orders == ()  # a calm bar: the desk's day is open
    price = float(sandbox.admin.state()["prices"]["SPY"])
    session.request_manual_order(
        ManualOrder(
            "SPY", Side.BUY, qty=7, order_type=OrderType.LIMIT, limit_price=round(price * 0.97, 2)
        )
    )
    [order] = session.apply_kill_requests().orders
    assert order.status.is_open
    if not reaches:
        session.broker.client.cancel_order_by_id = lambda order_id: None
    session.request_cancel(order.client_order_id)
    [cancelled] = session.apply_kill_requests().orders
    assert cancelled.status is OrderStatus.CANCELED
    return order.client_order_id


def _row_status(cid: str) -> str:
    return str(LiveOrder.get(LiveOrder.client_order_id == cid).status)


def test_a_fill_after_an_accepted_cancel_is_recorded_by_the_next_start(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The desk dies between Alpaca's 204 and its confirmation, and the order fills: the row
    was written final (``canceled``), so the next start never looked at it again and the fill
    was missing from the audit trail."""
    db = tmp_path / "c.db"
    first = alpaca_session(sandbox, db)
    cid = _cancel_a_working_spy_limit(first, sandbox, reaches=False)
    assert _row_status(cid) == "pending_cancel"  # not final until Alpaca's own word
    first.broker.close()  # the process dies before Alpaca confirms anything
    simulate_death(first)
    sandbox.admin.step(shock={"SPY": -5.0})  # the fill beats the cancel at the exchange
    second = alpaca_session(sandbox, db)
    second.broker.close()
    assert _row_status(cid) == "filled"
    assert filled_by_order() == {cid: 7}  # recorded once
    details = " | ".join(e.detail for e in second.startup_events if e.event_type == RECONCILIATION)
    assert f"order {cid}: pending_cancel in the database, filled at the broker" in details
    third = alpaca_session(sandbox, db)  # a later start: nothing left to look at, no double
    third.broker.close()
    assert filled_by_order() == {cid: 7}


def test_a_confirmed_cancel_makes_the_row_final(sandbox: SandboxHandle, tmp_path: Path) -> None:
    """A cancel that reaches the exchange: the row turns ``canceled`` once Alpaca says so."""
    session = alpaca_session(sandbox, tmp_path / "d.db")
    try:
        cid = _cancel_a_working_spy_limit(session, sandbox, reaches=True)
        wait_until(
            lambda: session.sync_orders() is not None and _row_status(cid) == "canceled",
            what="Alpaca's confirmation of the cancel recorded",
        )
        assert "SPY" not in session.broker.working_symbols()
        assert filled_by_order() == {}
    finally:
        session.broker.close()


def test_a_cancel_still_pending_at_the_next_start_is_followed_until_alpacas_word(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The next start finds the cancel still pending at Alpaca: the row stays
    ``pending_cancel``, its symbol stays blocked, and the fill that comes later is recorded."""
    db = tmp_path / "e.db"
    first = alpaca_session(sandbox, db)
    cid = _cancel_a_working_spy_limit(first, sandbox, reaches=False)
    first.broker.close()
    simulate_death(first)
    second = alpaca_session(sandbox, db)
    try:
        assert _row_status(cid) == "pending_cancel"
        assert "SPY" in second.broker.working_symbols()
        sandbox.admin.step(shock={"SPY": -5.0})
        wait_until(
            lambda: second.sync_orders() is not None and _row_status(cid) == "filled",
            what="the fill that beat the cancel recorded by the next run",
        )
        assert filled_by_order() == {cid: 7}
        assert "SPY" not in second.broker.working_symbols()
    finally:
        second.broker.close()
