"""A halt entered by a hand order's send in doubt still cancels the open orders.

A cycle (or the work between bars) acts on a halt, cancelling open orders, only when it sees the
account go from active to halted at its halt step. A hand order (or a protective exit) whose
answer is lost and whose look-up fails halts trading (``broker_error``) after that step: the
cycle did not cancel, and the next one, seeing itself halted already, did not either. The limit
orders working then kept working, able to fill, under a halt the desk called "halted trading".
Now the next cycle (or the next pass between bars) cancels them and says so. Sandbox, its
lost-answer fault switch on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from requests import ConnectionError as Unreachable

from tests.conftest import file_rows
from tests.integration.alpaca_helpers import alpaca_session, sandbox_view, working_spy_limit
from tui_trader.core.orders import OrderType, Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle


def _hand_buy_in_doubt(session: Any, sandbox: SandboxHandle, between_bars: bool) -> None:
    """A hand buy of 1 QQQ whose answer is lost and whose look-up fails: the session halts
    (``broker_error``); taken between bars or in a bar's cycle."""
    client = session.broker.client
    look_up = client.get_order_by_client_id

    def unreachable(client_order_id: str) -> Any:
        raise Unreachable("connection refused")

    sandbox.admin.set_faults(lost_ack_rate=1.0)  # the order arrives, its answer is lost
    client.get_order_by_client_id = unreachable
    try:
        session.request_manual_order(ManualOrder("QQQ", Side.BUY, qty=1))
        if between_bars:
            session.apply_kill_requests()
        else:
            sandbox.admin.step()
            session.run_iteration()
    finally:
        client.get_order_by_client_id = look_up
        sandbox.admin.clear_faults()
    state = session.risk.state
    assert state.halted and state.halt_reason == "broker_error"


@pytest.mark.parametrize("between_bars", [True, False], ids=["between-bars", "in-a-cycle"])
def test_a_halt_from_a_hand_order_in_doubt_cancels_the_working_limit(
    sandbox: SandboxHandle, tmp_path: Path, between_bars: bool
) -> None:
    """A limit buy of SPY works; a hand buy's send is in doubt and halts. Before: the limit
    kept working through every later cycle. Now the next cycle cancels it and says so."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    try:
        limit = working_spy_limit(session, sandbox)
        _hand_buy_in_doubt(session, sandbox, between_bars)
        assert sandbox_view(sandbox)[limit][0], "the halt step had passed: nothing cancelled yet"
        assert session.halt_line().endswith("(open orders not cancelled yet: at the next cycle)")
        [(action,)] = file_rows(db, "SELECT action_taken FROM live_risk_events")
        assert action.endswith("until reset; open orders are cancelled at the next cycle")
        sandbox.admin.step()
        report = session.run_iteration()
        assert not sandbox_view(sandbox)[limit][0], "the halt left the limit buy working"
        assert "the halt acted: cancelled 1 open order(s)" in report.notes, report.notes
        sandbox.admin.step()
        again = session.run_iteration()  # done: not acted on again
        assert not any("cancelled" in note for note in again.notes), again.notes
        assert session.halt_line().startswith("broker_error: ")
    finally:
        session.broker.close()


def test_a_halt_from_a_protective_stop_in_doubt_cancels_the_working_limit(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A desk with ``--stop-loss`` buys SPY in a rally while a hand limit buy of QQQ works;
    its stop's send fails and the look-up cannot reach Alpaca: ``broker_error`` in the
    cycle's protective step. Before: the QQQ limit kept working. Now the next cycle cancels
    it."""
    session = alpaca_session(
        sandbox,
        tmp_path / "desk.db",
        symbols=("SPY", "QQQ"),
        stop_loss=StopRule(pct=2.0),
        allocation_pct=10.0,
    )
    client = session.broker.client
    submit, look_up = client.submit_order, client.get_order_by_client_id
    stops: list[str] = []

    def stop_lost(order_data: Any) -> Any:
        """A stop's send and its look-up both unreachable; other orders as usual."""
        if order_data.type.value != "stop":
            return submit(order_data=order_data)
        stops.append(order_data.client_order_id)
        raise Unreachable("connection reset")

    def unreachable_for_stops(client_order_id: str) -> Any:
        if client_order_id in stops:
            raise Unreachable("connection refused")
        return look_up(client_order_id)

    try:
        sandbox.admin.step()
        session.run_iteration()
        price = float(sandbox.admin.state()["prices"]["QQQ"])
        below = round(price * 0.9, 2)  # far below the market: it works, unfilled
        session.request_manual_order(
            ManualOrder("QQQ", Side.BUY, qty=1, order_type=OrderType.LIMIT, limit_price=below)
        )
        [limit] = [o.client_order_id for o in session.apply_kill_requests().orders]
        client.submit_order, client.get_order_by_client_id = stop_lost, unreachable_for_stops
        for _ in range(12):  # rally until the desk buys SPY and sends its stop
            sandbox.admin.step(shock={"SPY": 1.0})
            session.run_iteration()
            if session.risk.state.halted:
                break
        client.submit_order, client.get_order_by_client_id = submit, look_up
        assert stops, "the desk sent no stop"
        state = session.risk.state
        assert state.halted and state.halt_reason == "broker_error", state
        assert sandbox_view(sandbox)[limit][0], "the halt step had passed: nothing cancelled yet"
        sandbox.admin.step()
        report = session.run_iteration()
        assert not sandbox_view(sandbox)[limit][0], "the halt left the limit buy working"
        assert any(n.startswith("the halt acted: cancelled ") for n in report.notes), report.notes
    finally:
        client.submit_order, client.get_order_by_client_id = submit, look_up
        session.broker.close()


def test_a_desk_stopped_before_its_deferred_halt_acted_cancels_at_its_end(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """A limit buy of SPY works; a hand buy's send is in doubt and halts, and the desk is
    stopped before its next cycle or pass between bars (the stop pressed during that pass).
    Before: no cycle came, and the limit kept working at the broker under a halt whose event
    said its orders would be cancelled. Now the desk's end makes the halt's cancel; the
    limit's row says so."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    try:
        limit = working_spy_limit(session, sandbox)
        _hand_buy_in_doubt(session, sandbox, between_bars=True)
        assert sandbox_view(sandbox)[limit][0], "the halt step had passed: nothing cancelled yet"
        session.finish("stopped")
        assert not sandbox_view(sandbox)[limit][0], "the stopped desk left the limit buy working"
        [(status,)] = file_rows(
            db, "SELECT status FROM live_orders WHERE client_order_id = ?", limit
        )
        assert status in ("canceled", "pending_cancel"), status
    finally:
        session.broker.close()
