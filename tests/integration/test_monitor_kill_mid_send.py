"""A monitor's kill request written while a desk sends its orders stops the ones not sent yet.

``live monitor``'s kill switch writes a ``halt_requests`` row to the store; the desk read it
only at its next cycle's halt step (or the next wake between bars). On a desk whose rows
commit one by one (a broker reached over the network: each order waits on its row's commit,
its HTTP round trip and the request budget, seconds for a few dozen), a request landing while
the rebalance, or the orders queued by hand, went out let every order left go out after it.
Now such a desk looks for a pending request right before each of those orders: the rest are
refused (said, audited), and the desk, woken, halts at once. Here the local paper broker on a
store committing row by row, as the Alpaca desk's does (SQLite and PostgreSQL); the request
lands as the first order reaches the broker; and once on the real Alpaca path, at the sandbox.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import BuyAndHold, make_session
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tests.integration.test_kill_stops_hand_orders import Flat
from tui_trader.core.orders import Order, OrderRequest, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.session import TradingSession
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest, RiskEventRow
from tui_trader.store.pg_url import PgUrl

PRESSED = datetime(2026, 12, 7, 14, 3, 7, tzinfo=UTC)


def _request_lands_at_first_send(session: TradingSession) -> list[str]:
    """The symbols the broker receives; the monitor's request is written as the first
    arrives (another process's write: committed before the desk's next statement)."""
    broker = session.broker
    submit = broker.submit
    sent: list[str] = []
    assert session.audit.session is not None
    session_id = session.audit.session.id

    def monitor_presses(request: OrderRequest) -> Order:
        sent.append(request.symbol)
        if len(sent) == 1:
            write_halt_request(session_id, PRESSED, "monitor", "stop it", False)
        return submit(request)

    broker.submit = monitor_presses  # type: ignore[method-assign]
    return sent


def _kill_refusals() -> list[str]:
    """The symbols of the orders the audit trail says the kill switch stopped."""
    rows = RiskEventRow.select().where(RiskEventRow.action_taken.contains("kill switch was"))
    return sorted(row.symbol for row in rows)


def _halts_at_the_next_pass(session: TradingSession, sent: list[str]) -> None:
    """Woken by what it found, the desk's next pass takes the request: halted, the request
    marked taken, nothing more sent."""
    assert session.wake.is_set(), "the desk must wake to take the request at once"
    after = session.apply_kill_requests()
    assert after is not None
    assert session.risk.state.halted
    [halt] = [e for e in after.risk_events if e.event_type == MANUAL_KILL]
    assert "monitor" in halt.detail, halt.detail
    assert HaltRequest.select().where(HaltRequest.handled_at.is_null()).count() == 0
    assert len(sent) == 1, sent
    assert RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL).count() == 1
    session.finish("stopped")


def test_a_monitor_kill_during_the_rebalance_sends_nothing_more(store: Path | PgUrl) -> None:
    """Three buys due at the first cycle; the monitor's request lands as the first is sent.
    Before: all three went out, the halt came a cycle later. Now only the first."""
    session = make_session(
        store, strategies=[BuyAndHold()], allocation_pct=5.0, commit_before_send=True
    )
    sent = _request_lands_at_first_send(session)
    report = session.run_iteration()
    assert report is not None
    assert sent, "the desk sent nothing"
    assert len(sent) == 1, f"orders sent after the monitor's kill request: {sent[1:]}"
    assert any("kill switch" in note for note in report.notes), report.notes
    refused = [e for e in report.risk_events if "kill switch" in e.detail]
    assert len(refused) == 1, report.risk_events  # the order stopped at its send
    assert len(_kill_refusals()) == 1
    _halts_at_the_next_pass(session, sent)


def test_a_monitor_kill_while_hand_orders_go_out_stops_the_rest(store: Path | PgUrl) -> None:
    """Three buys queued by hand, sent between bars; the monitor's request lands as the first
    is sent. Before: all three went out. Now the other two are refused, each audited."""
    session = make_session(store, strategies=[Flat()], commit_before_send=True)
    session.run_iteration()  # a bar: the tickets have prices
    sent = _request_lands_at_first_send(session)
    for symbol in ("SPY", "QQQ", "IWM"):
        session.request_manual_order(ManualOrder(symbol, Side.BUY, qty=1))
    report = session.apply_kill_requests()
    assert report is not None
    assert sent == ["SPY"], f"orders sent after the monitor's kill request: {sent[1:]}"
    stopped = sorted(e.symbol for e in report.risk_events if "kill switch" in e.detail)
    assert stopped == ["IWM", "QQQ"], report.risk_events
    assert _kill_refusals() == ["IWM", "QQQ"]
    _halts_at_the_next_pass(session, sent)


def test_an_alpaca_desk_sends_no_hand_order_after_the_monitors_request(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """The same on the real Alpaca path (alpaca-py, the sandbox): three buys by hand between
    bars, the monitor's request written as the first reaches the sandbox; the sandbox
    receives that one only, and the desk halts at its next pass."""
    session = alpaca_session(sandbox, tmp_path / "desk.db")
    try:
        sandbox.admin.step()
        session.run_iteration()  # a bar: the tickets have prices
        before = {o.id for o in sandbox_orders(trading)}  # the strategies' own, if any
        sent = _request_lands_at_first_send(session)
        for symbol in ("SPY", "QQQ", "IWM"):
            session.request_manual_order(ManualOrder(symbol, Side.BUY, qty=1))
        report = session.apply_kill_requests()
        assert report is not None
        assert sent == ["SPY"], f"orders sent after the monitor's kill request: {sent[1:]}"
        received = [o.symbol for o in sandbox_orders(trading) if o.id not in before]
        assert received == ["SPY"], received
        assert _kill_refusals() == ["IWM", "QQQ"]
        session.apply_kill_requests()
        assert session.risk.state.halted
        assert len([o for o in sandbox_orders(trading) if o.id not in before]) == 1
    finally:
        session.broker.close()
