"""An order held up between its slot and its sending is not sent into a halt written meanwhile.

Each order of an Alpaca session takes its slot with an ``UPDATE`` that fails while the account
is halted; its row is written, then the request goes out. Here the process "freezes" right
after the order's slot, or after its row (the boot clock moved on 12 s, as a SIGSTOP, a suspend
or a paused VM would leave it) while another process halts the account. Before, the order was
sent all the same. Now the send notices the gap, reads the halt again and does not send: a row
already written ends ``rejected`` with the reason, the cycle says so and adopts the halt, and
the next start's reconciliation finds nothing to add or correct about that order. A session
recorded dead by another start while it was frozen there stops before sending.
"""

from __future__ import annotations

import re
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
from tui_trader.store.models import LiveOrder, SessionRow, database
from tui_trader.store.session_rows import RowEnded

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}
BOOT = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def _freeze_after(
    session: Any, step: str, lost: list[float], then: Any, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    """Freeze the process for 12 s (the boot clock jumps) right after the first order's
    ``step`` (``_reserve_slot``: its slot taken; ``order_pending``: its row written), while
    ``then()`` runs as another process would; the frozen order's client id goes into the
    list."""
    owner = session if step == "_reserve_slot" else session.audit
    real = getattr(owner, step)
    frozen: list[str] = []

    def done_then_frozen(request: Any, *args: Any, **kwargs: Any) -> Any:
        out = real(request, *args, **kwargs)
        if not frozen and (step == "order_pending" or out is None):
            frozen.append(request.client_order_id)
            lost[0] += 12.0
            then()
        return out

    monkeypatch.setattr(owner, step, done_then_frozen)
    return frozen


def _boot_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The boot clock, moved on by the seconds in the list (the time a process lost)."""
    lost = [0.0]
    real = time.clock_gettime
    monkeypatch.setattr(time, "clock_gettime", lambda c: real(c) + (lost[0] if c == BOOT else 0))
    return lost


def _rally_until(sandbox: SandboxHandle, session: Any, frozen: list[str]) -> Any:
    """Cycles of a rally (every symbol bought) until the first order was frozen."""
    report = None
    while not frozen:
        sandbox.admin.step(shock=RALLY)
        report = session.run_iteration()
    return report


@pytest.mark.parametrize("step", ["_reserve_slot", "order_pending"])
def test_an_order_held_up_after_its_slot_is_not_sent_into_a_halt_written_meanwhile(
    sandbox: SandboxHandle,
    trading: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    """Frozen after the order's slot (before its row), or after its row (before the request):
    before, sent all the same; now refused, said, the halt adopted, nothing left open."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    lost = _boot_clock(monkeypatch)
    key = session.risk.state.account_key
    frozen = _freeze_after(
        session,
        step,
        lost,
        lambda: halt_account(database.obj, key, "fleet halt (test)"),
        monkeypatch,
    )
    try:
        before = len(sandbox_orders(trading))
        report = _rally_until(sandbox, session, frozen)
        assert len(sandbox_orders(trading)) == before, "an order sent into the halted account"
        assert report.orders_sent == 0 and report.state is TradingState.HALTED
        refused = [e.action_taken for e in report.risk_events if e.event_type == HALTED_ORDER]
        # the 12 s frozen plus the real time the slot's commit and the row's write took (a
        # tenth or more on a loaded machine): at least 12.0 s is named
        gap = re.search(
            r"during the (\d+\.\d) s between the order's slot and its sending", refused[0]
        )
        assert gap is not None and 12.0 <= float(gap.group(1)) < 20.0, refused
        assert refused[0].endswith("; not sent")
        assert HALT_ADOPTED in [e.event_type for e in report.risk_events]
        row = LiveOrder.get_or_none(LiveOrder.client_order_id == frozen[0])
        if step == "order_pending":  # its row was written: final, never 'submitting' for ever
            assert row is not None and row.status == "rejected", row
            assert row.error.startswith("not sent: the account was halted by another process")
        else:  # refused before its row was written, as a fenced slot is
            assert row is None
    finally:
        session.finish("stopped")
        session.broker.close()
    again = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    try:  # the next start agrees: nothing about that order to look up, add or correct
        said = [e.detail for e in again.startup_events if e.event_type == RECONCILIATION]
        assert not [d for d in said if frozen[0] in d or "differ" in d], said
        assert len(sandbox_orders(trading)) == before
    finally:
        again.finish("stopped")
        again.broker.close()


def test_a_session_recorded_dead_while_held_up_after_a_slot_stops_before_sending(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frozen after the order's slot, past its heartbeat window: another start recorded it
    died and took its orders over. Before, the woken session wrote the order's row and sent
    it; now its heartbeat, written as the send notices the gap, stops it (``RowEnded``):
    no row, no order."""
    session = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    lost = _boot_clock(monkeypatch)
    own = session.audit.session.id

    def recorded_died() -> None:
        """What another session's start-up writes about a session whose heartbeat went stale."""
        SessionRow.update(status="died").where(SessionRow.id == own).execute()

    frozen = _freeze_after(session, "_reserve_slot", lost, recorded_died, monkeypatch)
    before = len(sandbox_orders(trading))
    try:
        with pytest.raises(RowEnded, match="took its open orders over"):
            _rally_until(sandbox, session, frozen)
        assert len(sandbox_orders(trading)) == before, "the woken session sent its order"
        assert LiveOrder.get_or_none(LiveOrder.client_order_id == frozen[0]) is None
    finally:
        session.broker.close()
