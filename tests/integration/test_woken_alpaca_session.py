"""An Alpaca session frozen past its heartbeat window, its orders taken over by a new session
on the account, then woken: it stops before recording or sending anything.

A frozen process (SIGSTOP, a suspended laptop, a hang) stops beating; a session started on the
same account meanwhile finds it dead and brings its open orders up to date from the broker
(start-up reconciliation), recording their fills. Before, the frozen session woke, went on
following the same orders, and recorded their fills a second time (run with ``live paper``
processes on the sandbox: fills recorded 40 where the broker filled 20, for each of its last
cycle's orders). Now the new session records the frozen one ``died`` before it takes its orders
over, and the woken one's first heartbeat (before it records the broker's news) stops it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from peewee import fn

from tests.conftest import age_heartbeat
from tests.integration.alpaca_helpers import alpaca_session, sandbox_orders
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store import session_rows
from tui_trader.store.liveness import MIN_WINDOW
from tui_trader.store.models import LiveFill, LiveOrder, SessionRow
from tui_trader.store.session_rows import RowEnded

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}


class _Clocks:
    """The two clocks a heartbeat's throttle may read, in ``store.session_rows``: the
    monotonic clock stands still while the machine is suspended, the boot clock does not."""

    CLOCK_BOOTTIME = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
    CLOCK_MONOTONIC = time.CLOCK_MONOTONIC

    def __init__(self) -> None:
        self.now = time.monotonic()
        self.suspended = 0.0

    def monotonic(self) -> float:
        return self.now

    def clock_gettime(self, clock: int) -> float:
        return self.now + (self.suspended if clock == self.CLOCK_BOOTTIME else 0.0)


@pytest.mark.parametrize("how", ["stopped", "suspended"])
def test_a_woken_session_whose_orders_were_taken_over_records_nothing_twice(
    sandbox: SandboxHandle,
    trading: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """``stopped``: SIGSTOP, both clocks go on. ``suspended``: a laptop's lid closed a moment
    after a heartbeat; the monotonic clock stood still meanwhile, so on it no heartbeat (and
    no check of the row) was due when the session woke: it recorded the fills twice too."""
    clocks = _Clocks()
    monkeypatch.setattr(session_rows, "time", clocks)
    db = tmp_path / "desk.db"
    frozen = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
    taker = None
    try:
        while not LiveOrder.select().count():  # the rally: a cycle that buys
            sandbox.admin.step(shock=RALLY)
            frozen.run_iteration()
        open_rows = [o.status for o in LiveOrder.select()]
        assert any(s in ("new", "pending_new", "accepted") for s in open_rows), open_rows
        sandbox.admin.step(shock=RALLY)  # the orders fill at the broker while it is frozen
        frozen.audit.beat(force=True)  # its last heartbeat, just before it froze
        age_heartbeat(frozen.audit.session.id, MIN_WINDOW + 1)
        if how == "stopped":
            clocks.now += MIN_WINDOW + 1
        else:
            clocks.suspended += MIN_WINDOW + 1
        taker = alpaca_session(sandbox, db, learning=LearningSettings("momentum"))
        woke: RowEnded | None = None
        try:  # the frozen session wakes
            sandbox.admin.step(shock=RALLY)
            frozen.run_iteration()
        except RowEnded as exc:
            woke = exc
        broker = {o.client_order_id: float(o.filled_qty) for o in sandbox_orders(trading)}
        recorded = dict(
            LiveFill.select(LiveOrder.client_order_id, fn.SUM(LiveFill.quantity))
            .join(LiveOrder)
            .group_by(LiveOrder.client_order_id)
            .tuples()
        )
        assert recorded == {k: v for k, v in broker.items() if v}, "fills recorded twice"
        assert SessionRow.get_by_id(frozen.audit.session.id).status == "died"
        assert woke is not None and "that session took its open orders over" in str(woke)
    finally:
        frozen.broker.close()
        if taker is not None:
            taker.finish("stopped")
            taker.broker.close()
