"""A halt decided in a bar's cycle is written even when the broker stops answering after its
cancel, before the cycle's end.

A cycle that halts (the kill switch, a drawdown trip) cancels the open orders, then goes on with
the rest of the cycle before it writes its events and the account's halted state: manual orders
waiting, and the positions' protective exits (the broker's positions and open orders read
again). When the broker stopped answering there, the cycle failed with a ``BrokerError`` and the
runner's outage path took it: the halt was held in memory only. No ``manual_kill`` event reached
the history or the alerts, the account's row stayed active (other desks on it traded on) for as
long as the outage lasted, and a process killed meanwhile left the account active for the next
start. A halt whose own cancel went unanswered was already written as the cycle failed; now so
is one whose cancel went through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from requests import ConnectionError as Dropped

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.brokers import BrokerError
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import RiskEventRow, database
from tui_trader.store.risk_store import read_risk_state


def test_a_halt_whose_cycle_loses_the_broker_after_the_cancel_is_written(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "desk.db", stop_loss=StopRule(pct=2.0))
    client = session.broker.client
    try:
        cancel, positions = client.cancel_orders, client.get_all_positions
        cancelled: list[bool] = []

        def cancel_then_gone(*args: Any, **kwargs: Any) -> Any:
            """The halt's cancel goes through; the broker answers nothing after it."""
            cancelled.append(True)
            return cancel(*args, **kwargs)

        def read_positions(*args: Any, **kwargs: Any) -> Any:
            if cancelled:
                raise Dropped("connection dropped")
            return positions(*args, **kwargs)

        client.cancel_orders = cancel_then_gone
        client.get_all_positions = read_positions
        session.request_kill(reason="test")
        sandbox.admin.step()
        with pytest.raises(BrokerError):
            session.run_iteration()
        assert cancelled, "the halt cancelled the open orders"
        halts = RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL)
        assert [row.action_taken.startswith("halted trading until reset") for row in halts] == [
            True
        ], "the kill is missing from the account's history"
        row = read_risk_state(database.obj, session.risk.state.account_key)
        assert row is not None and (row.halted, row.halt_reason) == (True, MANUAL_KILL)

        client.get_all_positions = positions  # it answers again: no second halt
        sandbox.admin.step()
        again = session.run_iteration()
        assert [e.event_type for e in again.risk_events if e.halts] == []
        assert RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_KILL).count() == 1
    finally:
        session.broker.close()
