"""An ended desk's stop that a live desk with exits took over fills: its fill is recorded once.

A desk running on the account records the fills of orders that the store's ended sessions left
working (``engine.ended_orders``): it reads their open rows, asks the broker, and brings each row
up to the broker's word by a compare-and-set on the row's status and filled quantity, recording
the fill if it won. A desk with exits takes such a stop over (the row becomes its own) and then
records the stop's fills from its own stream. In the ``crash28b`` campaign (PostgreSQL, a
restart of the server ending every desk, all started again together) a desk without exits
read the ended desk's stop row, the desk with exits took the stop over, the stop filled, and
both recorded its fill: 34 shares recorded for a 17-share take-profit, the store's fills no
longer adding up to the broker's positions. The row is now brought up to the broker only while
its session has ended; a row a live desk took over is that desk's to record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, filled_by_order, settle
from tests.integration.ended_stop import RULE, ended_desk_alone, spy_held, working_stops
from tui_trader.engine import ended_orders
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.ended_orders import ended_open_rows
from tui_trader.store.models import database

MOMENTUM = LearningSettings("momentum")
"""Every desk follows momentum alone."""
DROP = {"SPY": -8.0}
"""A fall through the 3% stop: the stop fills at the next bar."""


def test_a_taken_over_stops_fill_is_recorded_once(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Desk two's read of the ended desk's stop row came before desk three took the stop over;
    once the stop fills, the fills recorded for it add up to what the broker filled."""
    db = tmp_path / "desk.db"
    ended_desk_alone(sandbox, db)
    held = spy_held(trading)
    assert held > 0 and len(working_stops(trading)) == 1
    two = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM)
    three = None
    try:
        session = two.audit.session
        assert session is not None
        early = ended_open_rows(session.account_key, session.id, "SPY")  # desk two's read
        [stop] = [r.client_order_id for r in early if r.order_type == "stop"]
        three = alpaca_session(sandbox, db, symbols=("SPY",), learning=MOMENTUM, stop_loss=RULE)
        sandbox.admin.step()
        three.run_iteration()  # (its start took the ended desk's stop over)
        settle(sandbox, three)
        assert ended_open_rows(session.account_key, session.id, "SPY") == []
        assert working_stops(trading) and spy_held(trading) == held
        sandbox.admin.step(shock=DROP)  # the stop fills at the broker
        monkeypatch.setattr(ended_orders, "ended_open_rows", lambda *_args: early)
        database.initialize(two.audit.db)  # desk two's process: its own store connection
        try:
            ended_orders.record_ended_fills(
                two.broker, two.audit, session.account_key, "SPY", two.clock.now()
            )
        finally:
            database.initialize(three.audit.db)
        settle(sandbox, three)
        assert spy_held(trading) == 0
        assert filled_by_order().get(stop) == held
    finally:
        for desk in (two, three):
            if desk is None:
                continue
            desk.finish("stopped")
            desk.broker.close()
