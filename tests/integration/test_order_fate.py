"""An order's fate is final only on the broker's word (issue 12, section 2), over real HTTP.

A crash while the order POST is on its way, then a restart at once: the broker does not know
the order yet, so it must stay unsettled (not ``rejected``), block its symbol, and be recorded
with its fill when it appears. Two lost answers with two "no such order" look-ups must not halt
the session: the order is followed until the settlement window passes, then ``not_received``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import (
    alpaca_session,
    filled_by_order,
    killed_at_first_fill,
    sandbox_view,
    settle,
)
from tests.integration.test_alpaca_trading import RALLY, assert_books_agree, client_for
from tui_trader.core.orders import OrderRequest, Side
from tui_trader.engine.reconcile import RECONCILIATION
from tui_trader.engine.settlement import SETTLEMENT
from tui_trader.sandbox.testing import running_sandbox, wait_until
from tui_trader.store.models import LiveFill, LiveOrder, RiskEventRow


def _post_in_background(sb, cid: str, qty: int) -> threading.Thread:
    """Send a market buy of IWM with this client id from another client (the dying process's
    request, arriving); returns the thread, which ends when the sandbox answers."""
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import MarketOrderRequest

    client = client_for(sb)
    request = MarketOrderRequest(
        symbol="IWM",
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id=cid,
    )
    thread = threading.Thread(target=client.submit_order, args=(request,), daemon=True)
    thread.start()
    return thread


def test_a_crash_while_the_broker_holds_the_order_never_marks_it_rejected(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    with running_sandbox() as sb:
        first = alpaca_session(sb, db)
        first.broker.close()  # the process dies right after writing the row and sending
        cid = f"tt-{first.audit.session.key}-2-IWM-r"
        first.audit.order_pending(OrderRequest("IWM", Side.BUY, 13, cid), 2, datetime.now(UTC))
        simulate_death(first)  # as a killed process looks to the next start: no heartbeat
        # The dying process's POST is still on its way: it reaches the broker only after the
        # restart and its first cycle, whatever they take (a POST held for a fixed 1.5 s landed
        # during a slow start on a loaded machine, and the restart found the order filled).
        second = alpaca_session(sb, db)  # restart at once: the broker does not know it yet
        try:
            row = LiveOrder.get(LiveOrder.client_order_id == cid)
            assert row.status == "unknown", "not found yet is not never received"
            assert not LiveOrder.select().where(LiveOrder.status == "rejected").exists()
            sb.admin.step(shock=RALLY)
            report = second.run_iteration()
            assert any("no new orders for IWM" in n and cid in n for n in report.notes)
            assert not [o for o in report.orders if o.symbol == "IWM"]

            posting = _post_in_background(sb, cid, 13)
            posting.join(timeout=30)  # the broker receives and fills it
            assert not posting.is_alive(), "the sandbox answered the late POST"
            wait_until(
                lambda: (
                    second.sync_orders() is not None
                    and LiveOrder.get(LiveOrder.client_order_id == cid).status == "filled"
                ),
                what="the late order recorded as filled",
            )
            assert filled_by_order()[cid] == 13
            held = second.broker.positions()["IWM"].qty
            recorded = sum(
                f.quantity * (1 if f.side == "buy" else -1)
                for f in LiveFill.select().where(LiveFill.symbol == "IWM")
            )
            assert recorded == held, "the position the audit trail adds up to is the broker's"
            detail = " | ".join(
                e.detail for e in RiskEventRow.select().where(RiskEventRow.event_type == SETTLEMENT)
            )
            assert f"order {cid}: unknown until now, filled at the broker" in detail
            sb.admin.step(shock=RALLY)
            again = second.run_iteration()
            assert not any("no new orders for IWM" in n for n in again.notes)
            settle(sb, second)
        finally:
            second.broker.close()
        assert_books_agree(sb)
        events = RiskEventRow.select().where(RiskEventRow.event_type == RECONCILIATION)
        assert not any("never received" in e.detail for e in events)


def test_an_order_absent_past_its_window_is_not_received_and_trading_goes_on(
    tmp_path: Path,
) -> None:
    """Two failed submissions, both look-ups 404: unsettled, then ``not_received`` once the
    window has passed and the broker twice more says it has no such order; no halt."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "lost.db", settle_window=0.5)
        try:
            sb.admin.set_faults(order_fail_rate=1.0, error_status=503)
            for _ in range(8):  # rally until the strategy buys
                sb.admin.step(shock=RALLY)
                first = session.run_iteration()
                if first.orders_sent:
                    break
            assert not session.risk.state.halted, "two 404s are not a reason to halt"
            unknown = list(LiveOrder.select().where(LiveOrder.status == "unknown"))
            assert unknown
            blocked = {o.symbol for o in unknown}
            for symbol in blocked:
                assert any(f"no new orders for {symbol}" in n for n in first.notes)
            sb.admin.clear_faults()
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and not LiveOrder.select().where(LiveOrder.status == "unknown").exists()
                ),
                timeout=10,
                what="the lost orders settled as not received",
            )
            assert {o.status for o in LiveOrder.select() if o.symbol in blocked} == {"not_received"}
            sb.admin.step(shock=RALLY)
            after = session.run_iteration()
            assert not session.risk.state.halted
            assert after.orders_sent >= 1, "the symbols trade again"
            settle(sb, session)
        finally:
            session.broker.close()
        assert_books_agree(sb)


def test_an_order_whose_look_up_fails_is_still_followed_while_halted(tmp_path: Path) -> None:
    """The answer to an order is lost and the look-up by client id cannot reach Alpaca either:
    the session halts (``broker_error``), but the order did arrive and fill. It stays followed
    by client id: once Alpaca answers again its fill is recorded and its row ends ``filled``
    (before, nothing looked it up again: the row stayed ``unknown`` and the shares the desk had
    bought were missing from the audit trail until the next start)."""
    from requests import ConnectionError as Unreachable

    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "doubt.db")
        client = session.broker.client  # type: ignore[attr-defined]
        look_up = client.get_order_by_client_id

        def unreachable(client_order_id: str) -> object:
            raise Unreachable("connection refused")

        try:
            sb.admin.set_faults(lost_ack_rate=1.0)  # the order arrives, its answer is lost
            client.get_order_by_client_id = unreachable
            for _ in range(8):  # rally until the strategy buys
                sb.admin.step(shock=RALLY)
                session.run_iteration()
                if session.risk.state.halted:
                    break
            state = session.risk.state
            assert state.halted and state.halt_reason == "broker_error"
            [doubt] = LiveOrder.select().where(LiveOrder.status == "unknown")
            cid = doubt.client_order_id
            client.get_order_by_client_id = look_up  # Alpaca answers again
            sb.admin.clear_faults()
            filled = sandbox_view(sb)[cid][1]
            assert filled > 0, "the order the desk could not look up was filled at the broker"
            wait_until(
                lambda: (
                    session.sync_orders() is not None
                    and LiveOrder.get(LiveOrder.client_order_id == cid).status == "filled"
                ),
                timeout=5,
                what="the order in doubt recorded as filled",
            )
            assert filled_by_order()[cid] == filled
            detail = " | ".join(
                e.detail for e in RiskEventRow.select().where(RiskEventRow.event_type == SETTLEMENT)
            )
            assert f"order {cid}: unknown until now, filled at the broker" in detail
            settle(sb, session)
        finally:
            session.broker.close()
        assert_books_agree(sb)


def test_an_order_done_for_the_day_still_works(tmp_path: Path) -> None:
    """Alpaca's ``done_for_day``: the order "is done executing for the day, and will not
    receive further updates until the next trading day" (its OpenAPI document); it can still
    be cancelled, and fill the next day. The desk keeps it working: its row stays open and the
    position limit still counts it (before, it was taken as ``expired``: the row ended, and the
    desk forgot a buy that could fill the next day)."""
    from datetime import timedelta

    from tui_trader.core.orders import OrderType, Side, TimeInForce
    from tui_trader.engine.manual_orders import ManualOrder

    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "dfd.db")
        try:
            sb.admin.step()
            session.run_iteration()
            price = float(sb.admin.state()["prices"]["SPY"])
            ticket = ManualOrder(
                "SPY",
                Side.BUY,
                qty=10,
                order_type=OrderType.LIMIT,
                limit_price=round(price * 0.97, 2),
                time_in_force=TimeInForce.GTC,
            )
            session.request_manual_order(ticket)
            [order] = session.apply_kill_requests().orders
            cid = order.client_order_id
            raw = client_for(sb).get_order_by_client_id(cid)
            view = raw.model_copy(
                update={
                    "status": "done_for_day",
                    "updated_at": raw.updated_at + timedelta(seconds=1),
                }
            )
            session.broker.feed.events.put(("done_for_day", view, None))  # type: ignore[attr-defined]
            session.sync_orders()
            assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "new"
            working = {o.client_order_id for o in session.broker.open_orders()}
            assert cid in working, "the position limit still counts the order"
            assert "SPY" in session.broker.working_symbols()
        finally:
            session.broker.close()


def test_a_kill_as_a_settled_orders_fill_is_recorded_leaves_it_for_the_next_start(
    tmp_path: Path,
) -> None:
    """An order unsettled at start (the dying process's POST still on its way) arrives and
    fills; the look-up that finds it is killed as it records the fill. Its row and its fill
    commit together, so the row is still ``unknown`` and the next start records the fill
    (before, the row was written ``filled`` first, and no later start looked at it again)."""
    db = tmp_path / "settle.db"
    with running_sandbox() as sb:
        first = alpaca_session(sb, db)
        first.broker.close()  # the process dies right after writing the row and sending
        cid = f"tt-{first.audit.session.key}-2-IWM-r"
        first.audit.order_pending(OrderRequest("IWM", Side.BUY, 13, cid), 2, datetime.now(UTC))
        simulate_death(first)
        second = alpaca_session(sb, db)
        try:
            assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "unknown"
            posting = _post_in_background(sb, cid, 13)
            posting.join(timeout=30)  # the broker receives and fills it
            assert not posting.is_alive(), "the sandbox answered the late POST"
            killed_at_first_fill(second.sync_orders)  # the look-up finds it filled
        finally:
            second.broker.close()
        assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "unknown"
        simulate_death(second)
        third = alpaca_session(sb, db)
        third.broker.close()
        assert filled_by_order() == {cid: 13}
        assert LiveOrder.get(LiveOrder.client_order_id == cid).status == "filled"
