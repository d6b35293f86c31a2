"""A protective stop's replace that the exchange rejects while the old stop keeps working.

Alpaca answers a replace (``PATCH /v2/orders/{id}``) with the new order before the exchange has
it; the new order can still be rejected, and then the old stop goes on working
(``order_replace_rejected``). The desk had written the old stop cancelled on the answer and kept
it so until Alpaca said ``replaced`` or showed it filled, which never came: with the new stop
rejected it saw no stop and placed another beside the old one that still worked. Two sell
stops for one position: both could fire, and the second sale would open a short. The sandbox
rehearses it with ``replace_reject_rate``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, endpoint_for
from tests.integration.broker_protection import buy_and_protect, open_stops, spy_held
from tests.integration.test_replace_race import _row, _stop, _stop_smaller_than_the_position
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderRequest, OrderStatus, Side
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle, running_sandbox, wait_until


def test_the_broker_follows_the_old_stop_as_working_once_its_replacement_is_rejected(
    sandbox: SandboxHandle, trading: Any
) -> None:
    """Stream down (the broker polls): the replacement's rejection comes with the old stop
    working again in the same round of updates, and the open orders show it (the one stop)."""
    broker = AlpacaBroker(endpoint_for(sandbox), use_stream=False, require_open_market=False)
    try:
        broker.submit(OrderRequest("SPY", Side.BUY, 10, client_order_id="tt-rj-1-SPY-e"))
        price = float(sandbox.admin.state()["prices"]["SPY"])
        old = broker.submit(_stop("tt-rj-1-SPY-ps1", 10, price * 0.9))
        broker.drain_updates()
        sandbox.admin.set_faults(replace_reject_rate=1)
        new = broker.replace(old.client_order_id, _stop("tt-rj-1-SPY-ps2", 10, price * 0.8))
        assert new is not None and new.status is OrderStatus.PENDING_NEW
        broker.drain_updates()
        sandbox.admin.step()  # the exchange rejects the replacement; the old stop works on
        last = {u.order.client_order_id: u.order for u in broker.drain_updates()}
        assert last[new.client_order_id].status is OrderStatus.REJECTED
        assert last[old.client_order_id].row_status == "new"
        assert [o.client_order_id for o in broker.open_orders()] == [old.client_order_id]
        assert [o.client_order_id for o in trading.get_orders()] == [old.client_order_id]
    finally:
        broker.close()


def test_a_rejected_replacement_leaves_one_stop_never_two(tmp_path: Path) -> None:
    """The desk resizes its stop; the exchange rejects the replacement and the old stop works
    on. Cycles later exactly one stop works at the broker for the position, and the old one's
    row is open again (it is the stop that protects it), not cancelled."""
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(sb, tmp_path / "j.db", protected=open_stops, shock=1.0)
        try:
            old, _ = _stop_smaller_than_the_position(sb, session)
            sb.admin.set_faults(replace_reject_rate=1)
            sb.admin.step()
            session.run_iteration()  # the stop is resized by a replace: pending at Alpaca
            sb.admin.set_faults(replace_reject_rate=0)
            [new] = [o for o in open_stops(sb) if str(o.client_order_id) != old]
            assert str(new.status.value) == "pending_new"
            sb.admin.step()  # the exchange rejects the replacement: the old stop works on
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and _row(str(new.client_order_id)).status == "rejected"
                ),
                what="the replacement's rejection recorded",
            )
            assert _row(old).status == "new"  # working again, not cancelled
            for _ in range(3):
                sb.admin.step()
                session.run_iteration()
                session.sync_orders()
                stops = open_stops(sb)
                assert len(stops) <= 1, [(s.client_order_id, s.qty) for s in stops]
            [stop] = open_stops(sb)
            assert float(stop.qty) == spy_held(sb)  # resized again: the whole position
        finally:
            session.broker.close()


def test_a_replace_rejected_while_the_desk_is_dead_leaves_the_next_start_one_stop(
    tmp_path: Path,
) -> None:
    """The desk resizes its stop and dies; the exchange rejects the replacement, the old stop
    works on. The next start finds the old stop's row ``pending_cancel``: it records it working
    again (it kept it cancelled for good, and the stop was never resized), then resizes it:
    one stop, for the whole position."""
    db = tmp_path / "d.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        old, _ = _stop_smaller_than_the_position(sb, first)
        sb.admin.set_faults(replace_reject_rate=1)
        sb.admin.step()
        first.run_iteration()  # the stop is resized by a replace: pending at Alpaca
        sb.admin.set_faults(replace_reject_rate=0)
        assert _row(old).status == "pending_cancel"
        first.broker.close()
        simulate_death(first)
        sb.admin.step()  # the exchange rejects the replacement: the old stop works on
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        try:
            said = " | ".join(e.action_taken + ": " + e.detail for e in second.startup_events)
            assert f"order {old}: pending_cancel in the database, new at the broker" in said
            for _ in range(3):
                sb.admin.step()
                second.run_iteration()
                second.sync_orders()
                assert len(open_stops(sb)) <= 1
            [stop] = open_stops(sb)
            assert float(stop.qty) == spy_held(sb)
        finally:
            second.broker.close()


def test_a_replace_alpaca_refuses_outright_falls_back_without_a_crash(
    sandbox: SandboxHandle, trading: Any
) -> None:
    """The stop to resize is no longer replaceable at Alpaca (cancelled there behind the
    desk's back, before its news came): the PATCH is answered 422. The broker asks for the new
    client id, finds nothing, and says the old order is no longer working (``None``: the desk
    then cancels and places afresh). Before, that look-up called a method a module split had
    removed: an ``AttributeError`` failed the session and halted the account."""
    broker = AlpacaBroker(endpoint_for(sandbox), use_stream=False, require_open_market=False)
    try:
        broker.submit(OrderRequest("SPY", Side.BUY, 10, client_order_id="tt-rr-1-SPY-e"))
        price = float(sandbox.admin.state()["prices"]["SPY"])
        old = broker.submit(_stop("tt-rr-1-SPY-ps1", 10, price * 0.9))
        broker.drain_updates()
        [at_alpaca] = [o for o in trading.get_orders() if o.client_order_id == old.client_order_id]
        trading.cancel_order_by_id(at_alpaca.id)  # the desk has not heard of it yet
        new = broker.replace(old.client_order_id, _stop("tt-rr-1-SPY-ps2", 10, price * 0.8))
        assert new is None, new
        assert trading.get_orders() == []  # no second stop went out
    finally:
        broker.close()
