"""A desk recorded dead while frozen inside an order's look-up stops there, as anywhere else.

Waits inside a cycle write the session's heartbeat (``core.waiting``), and a heartbeat that
finds the session's row recorded ``died`` (another start took its orders over while it was
frozen: SIGSTOP, a suspend, a paused VM) raises ``RowEnded``: the session stops and records and
sends nothing more. One such wait is the request budget's, inside the HTTP request of an order's
look-up by client id (an order in doubt looked up each cycle). There the look-up turned the
``RowEnded`` into a broker failure ("looking up order ... failed"), which the settlement takes as
"no answer yet": the woken desk went on with its cycle, wrote its rows after its death and sent
the cycle's orders next to the session that had taken over.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import simulate_death
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tui_trader.core import waiting
from tui_trader.core.orders import OrderRequest, Side
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import AccountSnapshot, LiveOrder, SessionRow
from tui_trader.store.session_rows import RowEnded

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}
BOOT = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)


def test_a_desk_recorded_dead_while_frozen_in_an_orders_look_up_stops_there(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "desk.db"
    first = alpaca_session(sandbox, db)
    first.broker.close()  # a process that died as it sent an order: its row, no answer
    cid = f"tt-{first.audit.session.key}-2-IWM-r"
    first.audit.order_pending(OrderRequest("IWM", Side.BUY, 13, cid), 2, datetime.now(UTC))
    simulate_death(first)
    desk = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    assert desk.unsettled, "the dead process's order is in doubt: looked up each cycle"
    # The boot clock stands still but for the time the process lost frozen: a heartbeat is
    # due after the freeze only (none falls due on its own on a slow machine meanwhile).
    real_clock = time.clock_gettime
    lost = [real_clock(BOOT)]
    monkeypatch.setattr(time, "clock_gettime", lambda c: lost[0] if c == BOOT else real_clock(c))
    own = desk.audit.session.id
    look_up = desk.broker.client.get_order_by_client_id
    frozen: list[str] = []

    def frozen_in_its_wait(client_order_id: str) -> Any:
        """The look-up waits for the request budget, and the process is frozen in that wait
        past its heartbeat window, while another start records it died and takes its orders
        over."""
        if client_order_id == cid and not frozen:
            frozen.append(cid)
            desk.broker.budget.pause(0.05)  # (as after a 429: the look-up waits for it)
            SessionRow.update(status="died").where(SessionRow.id == own).execute()
            lost[0] += 60.0
        return look_up(client_order_id)

    monkeypatch.setattr(desk.broker.client, "get_order_by_client_id", frozen_in_its_wait)
    orders = len(sandbox_orders(trading))
    snapshots = AccountSnapshot.select().where(AccountSnapshot.session == own).count()
    try:
        sandbox.admin.step(shock=RALLY)
        with (
            pytest.raises(RowEnded, match="took its open orders over"),
            waiting.beating(desk.audit.beat_waiting),  # as the runner runs its cycles
        ):
            desk.run_iteration()
        assert frozen, "the cycle looked the order in doubt up"
        assert len(sandbox_orders(trading)) == orders, "the dead desk sent orders"
        assert AccountSnapshot.select().where(AccountSnapshot.session == own).count() == (
            snapshots
        ), "the dead desk wrote its cycle"
        assert not LiveOrder.select().where(LiveOrder.session == own).exists()
    finally:
        desk.broker.close()
