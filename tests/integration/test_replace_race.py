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

from pathlib import Path
from typing import Any

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import (
    alpaca_session,
    endpoint_for,
    filled_by_order,
    settle,
)
from tests.integration.broker_protection import buy_and_protect, client, open_stops, spy_held
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
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


def _stop_smaller_than_the_position(sb: SandboxHandle, session: Any) -> tuple[str, float]:
    """Leave the desk's stop smaller than its position: a manual sell limit far above the
    market takes part of the position (the stop comes back for the rest), then the limit is
    cancelled at the broker, with no look of the desk's between bars (cancelled through the
    desk, or looked up by its runner, the stop would be resized at once: ``engine.hand_exits``);
    the desk's next cycle resizes it. The stop's client id and the shares it is for."""
    held = spy_held(sb)
    part = float(int(held // 2))
    assert part >= 1
    price = float(sb.admin.state()["prices"]["SPY"])
    ticket = ManualOrder(
        "SPY", Side.SELL, qty=part, order_type=OrderType.LIMIT, limit_price=round(price * 1.2, 2)
    )
    session.request_manual_order(ticket)
    report = session.apply_kill_requests()
    # one limit sent; the report may also carry its later status, looked up between bars
    # (``engine.hand_exits``): the same order twice, by client id once
    [limit] = {
        o.client_order_id: o for o in report.orders if o.order_type is OrderType.LIMIT
    }.values()
    sb.admin.step()
    session.run_iteration()  # the stop comes back for what the limit leaves
    settle(sb, session)
    [small] = open_stops(sb)
    assert float(small.qty) == held - part
    trading = client(sb)
    trading.cancel_order_by_id(trading.get_order_by_client_id(limit.client_order_id).id)
    settle(sb, session)  # the cancel recorded (no look between bars)
    assert [float(o.qty) for o in open_stops(sb)] == [held - part]
    return str(small.client_order_id), held - part


def _resized(sb: SandboxHandle, old: str, race: bool) -> str:
    """The new stop that replaced ``old`` for the whole position; its client id."""
    # with the race, the old one is listed too, pending_replace (it may still fill)
    [new] = [o for o in open_stops(sb) if str(o.status.value) != "pending_replace"]
    assert float(new.qty) == spy_held(sb) and new.client_order_id != old
    assert str(new.status.value) == ("pending_new" if race else "new")
    return str(new.client_order_id)


def _resize_stop(sb: SandboxHandle, session: Any, race: bool) -> tuple[str, str, float]:
    """Make the desk resize its stop by a replace in its own cycle (with ``race``, one that
    loses Alpaca's race: the old stop fills at the next bar); the old and new client ids, and
    the shares the old stop is for."""
    old, qty = _stop_smaller_than_the_position(sb, session)
    if race:
        sb.admin.set_faults(replace_fill_rate=1)
    sb.admin.step()
    session.run_iteration()  # the stop is resized to the whole position by a replace
    return old, _resized(sb, old, race), qty


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
        held = spy_held(sb)
        old, new, sold = _resize_stop(sb, first, race=True)
        assert _row(old).status == "pending_cancel"  # not final until Alpaca's word
        assert _row(old).error == f"replaced by {new}"
        first.broker.close()  # the process dies between the replace and any event
        simulate_death(first)
        sb.admin.step()  # the old stop reaches the exchange first: filled; the new rejected
        wait_until(lambda: spy_held(sb) == held - sold, what="the old stop's fill")
        second = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        second.broker.close()
        assert (_row(old).status, _row(new).status) == ("filled", "rejected")
        assert filled_by_order().get(old) == sold  # recorded once, against the old stop
        assert new not in filled_by_order()
        details = " | ".join(
            e.detail for e in second.startup_events if e.event_type == RECONCILIATION
        )
        assert f"order {old}: pending_cancel in the database, filled at the broker" in details
        assert second.ledger.held("SPY") == held - sold  # the position is read right
        third = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        third.broker.close()  # a later start: nothing left to look at, no double
        assert filled_by_order().get(old) == sold


def test_a_replace_alpaca_confirms_makes_the_old_row_final(tmp_path: Path) -> None:
    """No race: Alpaca's ``replaced`` turns the old stop's row ``canceled``, the symbol is
    free again, the new stop works, and nothing is filled."""
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = buy_and_protect(sb, tmp_path / "c.db", protected=open_stops, shock=1.0)
        try:
            old, new, _ = _resize_stop(sb, session, race=False)
            wait_until(
                lambda: session.sync_orders() is not None and _row(old).status == "canceled",
                what="Alpaca's replaced recorded",
            )
            assert _row(old).error == f"replaced by {new}"
            assert _row(new).status == "new"
            assert "SPY" not in session.broker.working_symbols(
                ignore=lambda o: o.client_order_id == new
            )
            assert old not in filled_by_order()
        finally:
            session.broker.close()


_CHILD = """
import sys
from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import AdminClient, SandboxHandle

base, trading, data, key, secret, db = sys.argv[1:]
sb = SandboxHandle(base, trading, data, key, secret, AdminClient(base, key, secret), None)
alpaca_session(sb, Path(db), symbols=("SPY",), stop_loss=StopRule(pct=2.0))
print("started", flush=True)
sys.stdin.read()  # until killed
"""


def test_a_desk_killed_with_kill_9_between_the_replace_and_the_fill_loses_no_fill(
    tmp_path: Path,
) -> None:
    """A real ``kill -9``: a desk process starts, finds its stop smaller than the position and
    resizes it by a replace that loses the race; it is killed before any event arrives. The
    old stop fills; the next start records the fill against it and the new stop's rejection."""
    import os
    import select
    import signal
    import subprocess
    import sys

    db = tmp_path / "k.db"
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        first = buy_and_protect(sb, db, protected=open_stops, shock=1.0)
        held = spy_held(sb)
        old, sold = _stop_smaller_than_the_position(sb, first)
        first.broker.close()
        simulate_death(first)
        sb.admin.set_faults(replace_fill_rate=1)
        script = tmp_path / "desk.py"
        script.write_text(_CHILD)
        argv = [sb.base_url, sb.trading_stream_url, sb.data_stream_url, sb.key_id, sb.secret]
        root = Path(__file__).resolve().parents[2]
        child = subprocess.Popen(
            [sys.executable, str(script), *argv, str(db)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},  # a script's folder is its sys.path
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(tmp_path / "desk.err").open("w"),
            text=True,
        )
        try:
            assert child.stdout is not None
            ready, _, _ = select.select([child.stdout], [], [], 60)  # never wait forever
            said = child.stdout.readline().strip() if ready else "(nothing in 60 s)"
            err = (tmp_path / "desk.err").read_text()[-2000:]
            assert said == "started", f"{said}; {err}"  # its start-up resized the stop
            new = _resized(sb, old, race=True)
            assert (_row(old).status, _row(new).status) == ("pending_cancel", "pending_new")
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
        finally:
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                child.wait(timeout=10)
        sb.admin.step()  # the old stop reaches the exchange first: filled; the new rejected
        wait_until(lambda: spy_held(sb) == held - sold, what="the old stop's fill")
        again = alpaca_session(sb, db, symbols=("SPY",), stop_loss=StopRule(pct=2.0))
        again.broker.close()
        assert (_row(old).status, _row(new).status) == ("filled", "rejected")
        assert filled_by_order().get(old) == sold and new not in filled_by_order()
        assert again.ledger.held("SPY") == held - sold
