"""A session frozen mid-cycle while the account is halted elsewhere sends nothing more.

A desk decides a cycle's orders from the account's risk state as it read it at the cycle's
start, then sends them one by one (each a round trip to the broker). A process frozen between
two of them (SIGSTOP, a debugger, a laptop suspended, a long stall of the machine) while the
operator halts the account from elsewhere (``fleet halt``, another session's kill switch)
resumed and sent the rest of the cycle's orders into the halted account: the halt only reached
it at its next cycle. Each order takes one of the account's daily slots in the database before
it is sent (``store.risk_store.reserve_order_slot``); that same statement now also requires the
account not halted, so a halt committed anywhere before it fences the order off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tui_trader.core.domain import TradingState
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.gate import HALTED_ORDER, MANUAL_KILL, RESET
from tui_trader.risk.merge import HALT_ADOPTED
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.models import LiveOrder, RiskEventRow, database
from tui_trader.store.risk_store import read_risk_state

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}


def test_orders_decided_before_a_halt_elsewhere_are_not_sent_after_it(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Before: the halt written after the cycle's first order, the cycle's other orders still
    reached the broker, and the cycle's end took the halt in silently: no word of it, the
    order sent left working. Now the first order is the only one, and the cycle says it
    adopted the halt and refuses the rest. The order fenced off is not one of the day's
    orders (before, the gate's count of it was merged into the account's row: 2 for 1 sent)."""
    session = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    submit = session.broker.submit
    sent: list[str] = []

    def submit_then_freeze(request: Any) -> Any:
        """The first order goes out; the process then 'freezes' while the operator halts
        the account from another process (one commit on the shared database)."""
        ack = submit(request)
        sent.append(request.symbol)
        if len(sent) == 1:
            halt_account(database.obj, session.risk.state.account_key, "fleet halt (test)")
        return ack

    session.broker.submit = submit_then_freeze  # type: ignore[method-assign]
    try:
        before = len(sandbox_orders(trading))
        report = None
        while not sent:  # the rally: a cycle that buys every symbol
            sandbox.admin.step(shock=RALLY)
            report = session.run_iteration()
        assert report is not None and report.orders_sent == 1, report
        assert len(sandbox_orders(trading)) == before + 1, "orders sent into a halted account"
        assert LiveOrder.select().count() == 1
        # the same cycle adopts the halt and says so (and cancels what still works)
        assert report.state is TradingState.HALTED
        kinds = [e.event_type for e in report.risk_events]
        assert HALT_ADOPTED in kinds, kinds
        refused = [e.action_taken for e in report.risk_events if e.event_type == HALTED_ORDER]
        assert len(refused) == 2, refused  # the two orders after the halt: neither sent
        assert refused[0].endswith("after this session decided the order; not sent"), refused
        assert refused[1].endswith("trading is halted (manual_kill)"), refused
        row = read_risk_state(database.obj, session.risk.state.account_key)
        assert row is not None and row.orders_today == 1, "the order fenced off was counted"
        sandbox.admin.step(shock=RALLY)
        report = session.run_iteration()
        assert report.state is TradingState.HALTED
        row = read_risk_state(database.obj, session.risk.state.account_key)
        assert row is not None and row.orders_today == session.risk.state.orders_today == 1
        assert len(sandbox_orders(trading)) == before + 1
        kinds = [e.event_type for e in RiskEventRow.select().order_by(RiskEventRow.id)]
        assert kinds.count(MANUAL_KILL) == 1 and kinds.count(HALT_ADOPTED) == 1, kinds
    finally:
        session.finish("stopped")
        session.broker.close()


def test_a_resume_taken_in_a_cycle_is_not_fenced_by_its_own_halt_and_a_later_halt_is_said(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """A desk's resume taken at a cycle's start (a press landing as the cycle begins) lifted
    the halt in memory only; the cycle's first order then found the row still halted by the
    desk's own kill, was refused as 'halted by another process' and the halt was taken back:
    the resume undone in the same cycle, no order sent. Now the reset goes into the row
    before the orders. A halt written elsewhere after the cycle's last order (before its
    save) is kept, never written back to active, and said once (halt_adopted)."""
    session = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    key = session.risk.state.account_key
    session.request_kill("desk")
    sandbox.admin.step(shock=RALLY)
    assert session.run_iteration().state is TradingState.HALTED  # the desk's own halt
    submit = session.broker.submit
    sent: list[str] = []

    def submit_then_halt_elsewhere(request: Any) -> Any:
        """The cycle's last order goes out; then the operator halts the account from
        another process (one commit on the shared database) before the cycle saves."""
        ack = submit(request)
        sent.append(request.symbol)
        if len(sent) == len(RALLY):
            halt_account(database.obj, key, "fleet halt (test)")
        return ack

    session.broker.submit = submit_then_halt_elsewhere  # type: ignore[method-assign]
    try:
        session.request_resume("desk")
        sandbox.admin.step(shock=RALLY)
        report = session.run_iteration()
        kinds = [e.event_type for e in report.risk_events]
        # before: [], the first order refused ('halted by another process (manual_kill)')
        assert len(sent) == len(RALLY), (sent, kinds)
        assert kinds[0] == RESET, kinds
        assert HALTED_ORDER not in kinds, kinds
        sandbox.admin.step(shock=RALLY)
        later = session.run_iteration()
        assert later.state is TradingState.HALTED  # kept: never written back to active
        assert session.risk.state.halt_detail.endswith("fleet halt (test)")
        assert len(sandbox_orders(trading)) == len(RALLY)  # nothing sent after the halt
        rows = [e.event_type for e in RiskEventRow.select().order_by(RiskEventRow.id)]
        assert rows.count(HALT_ADOPTED) == 1, rows  # said once, this cycle or the next
    finally:
        session.finish("stopped")
        session.broker.close()
