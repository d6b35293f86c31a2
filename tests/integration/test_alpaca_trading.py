"""The desk on Alpaca through the real alpaca-py client, against the local sandbox.

Every test here speaks HTTP and websockets to a sandbox on 127.0.0.1; none needs credentials or
the internet. The market is paused and stepped by the test, with level shocks where a test needs
the strategy to buy (a rally) or to sell (a drop).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import (
    alpaca_session,
    endpoint_for,
    filled_by_order,
    sandbox_orders,
    settle,
)
from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_stream import TradeUpdateFeed
from tui_trader.core.domain import TradingState
from tui_trader.engine.reconcile import RECONCILIATION
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import SandboxHandle, make_fast, running_sandbox, wait_until
from tui_trader.session import alpaca as alpaca_session_module
from tui_trader.session.alpaca import AlpacaSetupError
from tui_trader.store.models import LiveFill, LiveOrder, RiskEventRow

RALLY = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0}
DROP = {"SPY": -2.0, "QQQ": -2.0, "IWM": -2.0}


def rally_then_drop(sb: SandboxHandle, session: Any, steps: int = 20) -> list[Any]:
    """Six rallying bars (the crossover buys), a calm, then four falling bars (it sells)."""
    reports = []
    for i in range(steps):
        shock = RALLY if i < 6 else DROP if 12 <= i < 16 else None
        sb.admin.step(shock=shock)
        report = session.run_iteration()
        if report is not None:
            reports.append(report)
    return reports


def client_for(sb: SandboxHandle) -> Any:
    """A plain alpaca-py TradingClient on the sandbox, for checking its side of the story."""
    from alpaca.trading.client import TradingClient

    return make_fast(TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url))


def assert_books_agree(sb: SandboxHandle) -> None:
    """Nothing duplicated (one sandbox order per sent row), nothing lost (every fill recorded)."""
    remote = sandbox_orders(client_for(sb))
    rows = {o.client_order_id: o for o in LiveOrder.select() if o.broker_order_id}
    assert sorted(str(o.client_order_id) for o in remote) == sorted(rows)
    recorded = filled_by_order()
    for order in remote:
        assert recorded.get(str(order.client_order_id), 0.0) == pytest.approx(
            float(order.filled_qty or 0)
        ), f"fills of {order.client_order_id}"


def test_a_paper_session_sends_orders_and_records_fills(sandbox: SandboxHandle, tmp_path: Path):
    """20 cycles: buys in the rally, sells in the drop, every fill and trade in the database."""
    session = alpaca_session(sandbox, tmp_path / "a.db")
    try:
        reports = rally_then_drop(sandbox, session)
        settle(sandbox, session)
    finally:
        session.broker.close()
    assert len(reports) == 20
    assert sum(r.orders_sent for r in reports) >= 6
    assert LiveFill.select().count() >= 6
    assert all(o.status == "filled" for o in LiveOrder.select())
    assert all(o.rationale.startswith("target") for o in LiveOrder.select())
    assert_books_agree(sandbox)
    assert session.account_key == "alpaca:" + client_for(sandbox).get_account().account_number


def test_restart_mid_session_reconciles_orders_and_positions(tmp_path: Path) -> None:
    """A run dies with half-filled orders; the next run records the missed fills and reports
    the difference, and an order placed by hand shows up as foreign."""
    db = tmp_path / "r.db"
    with running_sandbox(faults="partial_rate=1.0") as sb:
        first = alpaca_session(sb, db)
        for _ in range(3):
            sb.admin.step(shock=RALLY)
            first.run_iteration()
        half_filled = LiveOrder.select().where(LiveOrder.status == "partially_filled")
        wait_until(
            lambda: first.sync_orders() is not None and half_filled.count() >= 1,
            what="a half-filled order recorded from the stream",
        )
        first.broker.close()  # the process dies: no finish, orders half filled
        simulate_death(first)
        sb.admin.step()  # the rest fills while nobody watches
        from alpaca.trading.enums import OrderSide, TimeInForce
        from alpaca.trading.requests import LimitOrderRequest

        client_for(sb).submit_order(
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=1.0,
            )
        )
        second = alpaca_session(sb, db)
        second.broker.close()
        events = [e for e in second.startup_events if e.event_type == RECONCILIATION]
        details = " | ".join(e.detail for e in events)
        assert "partially_filled in the database, filled at the broker" in details
        assert "not placed by this desk: buy 1 SPY" in details
        assert not LiveOrder.select().where(LiveOrder.status == "partially_filled").exists()
        assert_books_agree_except_foreign(sb)
        assert RiskEventRow.select().where(RiskEventRow.event_type == RECONCILIATION).count() >= 2


def assert_books_agree_except_foreign(sb: SandboxHandle) -> None:
    """Every order the desk sent is recorded with all its fills."""
    recorded = filled_by_order()
    for order in sandbox_orders(client_for(sb)):
        if str(order.client_order_id).startswith("tt-"):
            assert recorded.get(str(order.client_order_id), 0.0) == pytest.approx(
                float(order.filled_qty or 0)
            )


FAULTS = [
    "latency=0.05",
    "error_rate=0.3",
    "error_rate=0.3,error_status=503",
    "burst_429=4",
    "hang_rate=0.15",
    "lost_ack_rate=1.0,lost_ack_mode=504",
    "lost_ack_rate=1.0,lost_ack_mode=drop",
    "reject_rate=0.5",
    "partial_rate=1.0",
    "stream_only_rate=1.0",
    "ws_drop=0.3",
]


@pytest.mark.parametrize("spec", FAULTS)
def test_each_fault_leaves_nothing_duplicated_or_lost(spec: str, tmp_path: Path) -> None:
    """Under each fault the session recovers or halts with a clear message, and the sandbox's
    orders and fills match the audit trail exactly."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "f.db", timeout=0.5)
        sb.admin.set_faults(spec)
        try:
            try:
                rally_then_drop(sb, session, steps=14)
            except BrokerError as exc:
                pytest.fail(f"a broker error escaped the engine: {exc}")
            sb.admin.clear_faults()
            settle(sb, session, timeout=15)
        finally:
            session.broker.close()
        state = session.risk.state
        if state.halted:
            assert state.halt_reason == "broker_error" and "unknown" in state.halt_detail
        else:
            assert sandbox_orders(client_for(sb)), "orders reached the sandbox under the fault"
        assert_books_agree(sb)


def test_setup_rides_out_transient_errors(tmp_path: Path) -> None:
    """A burst of 429s and a share of 5xx at start-up are retried, not fatal."""
    with running_sandbox(faults="burst_429=4,error_rate=0.3") as sb:
        session = alpaca_session(sb, tmp_path / "s.db", timeout=0.5)
        session.broker.close()
    assert session.started


def test_kill_switch_cancels_open_orders_at_the_broker(tmp_path: Path) -> None:
    """A kill while orders are working cancels them on the sandbox and halts."""
    with running_sandbox(faults="partial_rate=1.0") as sb:
        session = alpaca_session(sb, tmp_path / "k.db")
        try:
            for _ in range(3):
                sb.admin.step(shock=RALLY)
                session.run_iteration()
            assert sb.admin.state()["orders"]["open"] >= 1
            session.request_kill(who="test")
            report = session.apply_kill_requests()
            settle(sb, session)
        finally:
            session.broker.close()
        assert sb.admin.state()["orders"]["open"] == 0
        assert report.state is TradingState.HALTED
        (event,) = [e for e in report.risk_events if e.event_type == MANUAL_KILL]
        assert "cancelled" in event.action_taken and "cancelled 0" not in event.action_taken
        assert LiveOrder.select().where(LiveOrder.status == "canceled").count() >= 1


def test_suspend_on_halt_stops_the_account_itself(tmp_path: Path) -> None:
    """With --suspend-on-halt a halt sets suspend_trade: even a direct order is refused."""
    from alpaca.common.exceptions import APIError
    from alpaca.trading.enums import OrderSide, TimeInForce
    from alpaca.trading.requests import MarketOrderRequest

    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "s.db", suspend_on_halt=True)
        try:
            sb.admin.step()
            session.run_iteration()
            session.request_kill(who="test")
            report = session.apply_kill_requests()
        finally:
            session.broker.close()
        assert "trading suspended on the account" in report.risk_events[0].action_taken
        client = client_for(sb)
        assert client.get_account_configurations().suspend_trade is True
        with pytest.raises(APIError) as refused:
            client.submit_order(
                MarketOrderRequest(
                    symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
                )
            )
        assert refused.value.status_code == 403


def test_no_market_order_while_the_market_is_closed(tmp_path: Path) -> None:
    """Outside regular hours the cycle sends nothing and says why, naming the next open."""
    from datetime import datetime, timedelta

    from tui_trader.sandbox.hours import MarketHours

    class Closed(MarketHours):
        """A market that never opens today."""

        def is_open(self, now: datetime) -> bool:
            return False

        def next_open(self, now: datetime) -> datetime:
            return now + timedelta(hours=9)

    with running_sandbox() as sb:
        sb.sandbox.hours = Closed()
        session = alpaca_session(sb, tmp_path / "c.db")
        try:
            reports = [r for r in rally_then_drop(sb, session, steps=8)]
        finally:
            session.broker.close()
    assert sum(r.orders_sent for r in reports) == 0
    assert all(any("market closed" in n and "next open" in n for n in r.notes) for r in reports)
    assert LiveOrder.select().count() == 0


def test_while_the_stream_is_down_no_order_is_sent(tmp_path: Path) -> None:
    """With the trade-updates stream held down no order goes out and the cycle says why;
    once it reconnects (and missed fills are back-filled) trading resumes."""
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "w.db")
        try:
            feed = session.broker.feed
            sb.admin.set_faults(ws_drop=1.0)
            sb.admin.drop_streams()
            wait_until(lambda: not feed.connected, what="the feed to notice the drop")
            down = rally_then_drop(sb, session, steps=6)
            assert sum(r.orders_sent for r in down) == 0
            assert all(any("stream is down" in n for n in r.notes) for r in down)
            sb.admin.clear_faults()
            wait_until(lambda: feed.connected, timeout=10, what="the feed to reconnect")
            sb.admin.step(shock=RALLY)
            up = session.run_iteration()
            assert up.orders_sent >= 1
        finally:
            session.broker.close()


def test_a_stream_that_never_says_it_listens_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trade-updates stream is up only once Alpaca answers that it listens. With every
    stream message cut (``ws_drop=1.0``: each connection drops where "listening" would come),
    the feed never says it is up and the session is refused at start, naming the stream.
    Before, the feed was up as soon as alpaca-py had sent "listen": up for a moment at each
    reconnect, so a cycle in that moment back-filled and sent orders no update could follow
    (``test_while_the_stream_is_down_no_order_is_sent`` failed so under load). The session's
    start waits 2 s for the stream here, as the feed's, not the desk's 5."""
    monkeypatch.setattr(alpaca_session_module, "STREAM_START_WAIT", 2.0)
    with running_sandbox(faults="ws_drop=1.0") as sb:
        feed = TradeUpdateFeed(endpoint_for(sb), paper=True)
        try:
            assert not feed.start(wait=2.0), "the feed said it was up"
            assert feed.connects == 0
        finally:
            feed.stop()
        with pytest.raises(AlpacaSetupError, match=r"trade-updates stream at .* did not connect"):
            alpaca_session(sb, tmp_path / "n.db").broker.close()


def test_a_second_session_leaves_a_live_sessions_orders_to_it(tmp_path: Path) -> None:
    """A runs with half-filled orders; B starts on the same account and database: B's start-up
    reconciliation neither takes A's orders over nor calls them foreign, and when the rest
    fills every fill is recorded once (A's), not twice."""
    db = tmp_path / "two.db"
    with running_sandbox(faults="partial_rate=1.0") as sb:
        first = alpaca_session(sb, db)
        second = None
        try:
            for _ in range(3):
                sb.admin.step(shock=RALLY)
                first.run_iteration()
            half_filled = LiveOrder.select().where(LiveOrder.status == "partially_filled")
            wait_until(
                lambda: first.sync_orders() is not None and half_filled.count() >= 1,
                what="a half-filled order recorded from the stream",
            )
            second = alpaca_session(sb, db)
            events = [e for e in second.startup_events if e.event_type == RECONCILIATION]
            details = " | ".join(e.detail for e in events)
            assert "not placed by this desk" not in details
            assert "in the database" not in details
            sb.admin.step()  # the rest fills
            settle(sb, first)
            second.sync_orders()
        finally:
            first.broker.close()
            if second is not None:
                second.broker.close()
        sessions = {f.session_id for f in LiveFill.select()}
        assert sessions == {first.audit.session.id}, "A's fills are recorded by A alone"
        assert_books_agree(sb)


def test_a_manual_cancel_reaches_the_broker(tmp_path: Path) -> None:
    """Cancelling one working order from the desk cancels exactly that order at Alpaca (the
    sandbox) and records it; the other working orders keep working."""
    with running_sandbox(faults="partial_rate=1.0") as sb:
        session = alpaca_session(sb, tmp_path / "c.db")
        try:
            for _ in range(3):
                sb.admin.step(shock=RALLY)
                session.run_iteration()
            settle(sb, session)  # the stream has told the session every order's state
            working = session.broker.open_orders()
            assert working
            target = working[0].client_order_id
            session.request_cancel(target)
            report = session.apply_kill_requests()
            settle(sb, session)
            still = {o.client_order_id for o in session.broker.open_orders()}
        finally:
            session.broker.close()
        assert [o.client_order_id for o in report.orders] == [target]
        assert target not in still and len(still) == len(working) - 1
        assert LiveOrder.get(LiveOrder.client_order_id == target).status == "canceled"
        assert not session.risk.state.halted
