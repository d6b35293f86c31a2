"""An order held up between its slot and its sending is not sent into a halt written meanwhile.

Each order of an Alpaca session takes its slot with an ``UPDATE`` that fails while the account
is halted; its row is written, then the request goes out. Here the process "freezes" right
after the order's row is written (the boot clock moved on 12 s, as a SIGSTOP, a suspend or a
paused VM would leave it) while another process halts the account. Before, the order was sent
all the same. Now the send notices the gap, reads the halt again and does not send: the row
ends ``rejected`` with the reason, the cycle says so and adopts the halt, and the next start's
reconciliation finds nothing to add or correct about that order.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tui_trader.core.domain import TradingState
from tui_trader.engine.reconcile import RECONCILIATION
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.gate import HALTED_ORDER
from tui_trader.risk.merge import HALT_ADOPTED
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.fleet_halts import halt_account
from tui_trader.store.models import LiveOrder, database

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}
BOOT = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def test_an_order_held_up_after_its_slot_is_not_sent_into_a_halt_written_meanwhile(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    lost = [0.0]  # seconds the boot clock jumped: the time the process was frozen
    real = time.clock_gettime
    monkeypatch.setattr(time, "clock_gettime", lambda c: real(c) + (lost[0] if c == BOOT else 0))
    pending = session.audit.order_pending
    frozen: list[str] = []

    def written_then_frozen(request: Any, *args: Any, **kwargs: Any) -> Any:
        """The first order's row is committed; then the process is frozen for 12 s while the
        operator halts the account from another process."""
        out = pending(request, *args, **kwargs)
        if not frozen:
            frozen.append(request.client_order_id)
            lost[0] += 12.0
            halt_account(database.obj, session.risk.state.account_key, "fleet halt (test)")
        return out

    session.audit.order_pending = written_then_frozen  # type: ignore[method-assign]
    try:
        before = len(sandbox_orders(trading))
        report = None
        while not frozen:  # the rally: a cycle that buys every symbol
            sandbox.admin.step(shock=RALLY)
            report = session.run_iteration()
        assert report is not None
        assert len(sandbox_orders(trading)) == before, "an order sent into the halted account"
        assert report.orders_sent == 0 and report.state is TradingState.HALTED
        refused = [e.action_taken for e in report.risk_events if e.event_type == HALTED_ORDER]
        assert "during the 12.0 s between the order's slot and its sending" in refused[0], refused
        assert refused[0].endswith("; not sent")
        assert HALT_ADOPTED in [e.event_type for e in report.risk_events]
        row = LiveOrder.get(LiveOrder.client_order_id == frozen[0])
        assert row.status == "rejected", row.status  # final, never 'submitting' for ever
        assert row.error.startswith("not sent: the account was halted by another process")
    finally:
        session.finish("stopped")
        session.broker.close()
    again = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    try:  # the next start agrees: nothing about that order to look up, add or correct
        said = [e.detail for e in again.startup_events if e.event_type == RECONCILIATION]
        assert not [d for d in said if frozen[0] in d or "differ" in d], said
        assert LiveOrder.get(LiveOrder.client_order_id == frozen[0]).status == "rejected"
        assert len(sandbox_orders(trading)) == before
    finally:
        again.finish("stopped")
        again.broker.close()
