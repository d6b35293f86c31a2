"""A protective stop resized by a replace that fills before its replacement works.

Alpaca answers a replace (``PATCH /v2/orders/{id}``) with the new order, but warns that the old
one can still fill before the new one reaches the exchange (the new one is then rejected). The
desk wrote the old stop ``canceled`` on the answer alone: while the trade-updates stream was
down it never looked at it again, and a desk that died before the fill event left a final row
that no later start looked up, so the fill was missing from the audit trail and the position
was misread. Now the old row stays ``pending_cancel`` until Alpaca says ``replaced`` or shows it
filled, across a restart too. The sandbox rehearses the race with ``replace_fill_rate``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, endpoint_for, filled_by_order
from tests.integration.broker_protection import buy_and_protect, open_stops, spy_held
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.engine.reconcile import RECONCILIATION
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox, wait_until
from tui_trader.store.models import LiveOrder


def _stop(cid: str, qty: float, price: float) -> OrderRequest:
    """A GTC sell stop for ``qty`` SPY at ``price``."""
    return OrderRequest(
        "SPY",
        Side.SELL,
        qty,
        client_order_id=cid,
        order_type=OrderType.STOP,
        stop_price=round(price, 2),
        time_in_force=TimeInForce.GTC,
    )


def test_a_stop_that_fills_while_being_replaced_is_recorded_against_it(
    sandbox: SandboxHandle, trading: Any
) -> None:
    """The stream is down (the broker polls): the old stop's fill, which beat its
    replacement, is recorded against the old stop, and the new one's rejection follows."""
    broker = AlpacaBroker(endpoint_for(sandbox), use_stream=False, require_open_market=False)
    try:
        buy = OrderRequest("SPY", Side.BUY, 10, client_order_id="tt-rr-1-SPY-e")
        broker.submit(buy)
        assert [u.fill.qty for u in broker.drain_updates() if u.fill is not None] == [10]
        price = float(sandbox.admin.state()["prices"]["SPY"])
        old = broker.submit(_stop("tt-rr-1-SPY-ps1", 10, price * 0.9))
        assert old.status.is_open
        broker.drain_updates()
        sandbox.admin.set_faults(replace_fill_rate=1)
        new = broker.replace(old.client_order_id, _stop("tt-rr-1-SPY-ps2", 10, price * 0.8))
        assert new is not None and new.status is OrderStatus.PENDING_NEW
        [replaced] = [
            u.order
            for u in broker.drain_updates()
            if u.order.client_order_id == old.client_order_id
        ]
        assert replaced.row_status == "pending_cancel"  # not final: it may still fill
        assert "SPY" in broker.working_symbols()
        sandbox.admin.step()  # the old stop reaches the exchange before its replacement
        updates = broker.drain_updates()
        fills = [(u.fill.client_order_id, u.fill.qty) for u in updates if u.fill is not None]
        assert fills == [(old.client_order_id, 10)]
        last = {u.order.client_order_id: u.order.status for u in updates}
        assert last == {
            old.client_order_id: OrderStatus.FILLED,
            new.client_order_id: OrderStatus.REJECTED,
        }
        assert "SPY" not in broker.working_symbols()
        assert broker.drain_updates() == []  # Alpaca's word came: nothing more to look up
    finally:
        broker.close()


def _row(cid: str) -> Any:
    return LiveOrder.get(LiveOrder.client_order_id == cid)


def _resize_stop_while_it_fills(sb: SandboxHandle, session: Any) -> tuple[str, str, float]:
    """Resize the session's working stop by a replace that loses Alpaca's race (the old stop
    fills at the next bar); the old and new client ids, and the shares held."""
    [stop] = open_stops(sb)
    held = spy_held(sb)
    [old] = [o for o in session.broker.open_orders() if o.client_order_id == stop.client_order_id]
    position = session.broker.positions()["SPY"]
    sb.admin.set_faults(replace_fill_rate=1)
    assert session._place_exit(position, held, datetime.now(UTC), False, old) == []
    [new] = open_stops(sb)  # the old one is pending_replace at the sandbox, not listed
    assert new.client_order_id != old.client_order_id
    return old.client_order_id, new.client_order_id, held


def test_a_stop_replaced_and_filled_while_the_desk_is_dead_is_recorded_by_the_next_start(
    tmp_path: Path,
) -> None:
    """The desk resizes its stop and dies before any event: the old stop fills, its
    replacement is rejected. The old row was final (``canceled``), so the next start never
    looked at it and the fill was lost; now the next start records it against the old stop."""
    db = tmp_path / "r.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        old, new, held = _resize_stop_while_it_fills(sb, first)
        assert _row(old).status == "pending_cancel"  # not final until Alpaca's word
        assert _row(old).error == f"replaced by {new}"
        first.broker.close()  # the process dies between the replace and any event
        simulate_death(first)
        sb.admin.step()  # the old stop reaches the exchange first: filled; the new rejected
        wait_until(lambda: spy_held(sb) == 0, what="the old stop's fill at the sandbox")
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        second.broker.close()
        assert (_row(old).status, _row(new).status) == ("filled", "rejected")
        assert filled_by_order().get(old) == held  # recorded once, against the old stop
        assert new not in filled_by_order()
        details = " | ".join(
            e.detail for e in second.startup_events if e.event_type == RECONCILIATION
        )
        assert f"order {old}: pending_cancel in the database, filled at the broker" in details
        assert second.ledger.held("SPY") == 0.0  # the position is read right
        third = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        third.broker.close()  # a later start: nothing left to look at, no double
        assert filled_by_order().get(old) == held


def test_a_replace_alpaca_confirms_makes_the_old_row_final(tmp_path: Path) -> None:
    """No race: Alpaca's ``replaced`` turns the old stop's row ``canceled``, the new stop
    works, and nothing is filled."""
    db = tmp_path / "c.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        try:
            [stop] = open_stops(sb)
            held = spy_held(sb)
            [old] = [
                o for o in session.broker.open_orders() if o.client_order_id == stop.client_order_id
            ]
            position = session.broker.positions()["SPY"]
            session._place_exit(position, held, datetime.now(UTC), False, old)
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and _row(old.client_order_id).status == "canceled"
                ),
                what="Alpaca's replaced recorded",
            )
            [new] = open_stops(sb)
            assert _row(new.client_order_id).status == "new"
            assert "SPY" not in session.broker.working_symbols(
                ignore=lambda o: o.client_order_id == new.client_order_id
            )
            assert old.client_order_id not in filled_by_order()
        finally:
            session.broker.close()
