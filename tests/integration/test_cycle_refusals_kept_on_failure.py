"""A bar's cycle that fails after refusing an order by hand still writes and shows the refusal.

A cycle acts on the orders queued by hand after its rebalance, then brings the positions'
protective exits in step (the broker's positions and open orders read again). When the broker
stopped answering at the hand order's reads, the order was refused in words ("not sent: the
broker did not answer"); when it was still silent for the exits' reads, the cycle failed. Its
events were written only if one of them halted trading: the refusal was held in memory and
lost, missing from the audit trail and from the desk's line for the failed cycle. Now every
event the cycle gathered is written before it fails, and the outage line shows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from requests import ConnectionError as Dropped

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.brokers import BrokerError
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import MANUAL_REFUSED, ManualOrder
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow


def test_a_hand_order_refused_before_the_exits_step_fails_is_in_the_audit_trail(
    sandbox: SandboxHandle, tmp_path: Path
) -> None:
    """The cycle reads the account; the hand order's own account read goes unanswered (it is
    refused), and so does every read after it: the exits' step fails the cycle. The refusal is
    a risk event in the store and on the outage line; no order went out."""
    session = alpaca_session(sandbox, tmp_path / "desk.db", stop_loss=StopRule(pct=2.0))
    client = session.broker.client
    try:
        sandbox.admin.step()
        session.run_iteration()  # a bar: the ticket has a price
        account, positions = client.get_account, client.get_all_positions
        silent: list[bool] = []

        def account_once(*args: Any, **kwargs: Any) -> Any:
            """The cycle's own read answers; from the hand order's read on, nothing does."""
            if silent or reads:
                silent.append(True)
                raise Dropped("connection dropped")
            reads.append(True)
            return account(*args, **kwargs)

        def read_positions(*args: Any, **kwargs: Any) -> Any:
            if silent:
                raise Dropped("connection dropped")
            return positions(*args, **kwargs)

        reads: list[bool] = []
        client.get_account = account_once
        client.get_all_positions = read_positions
        session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=1))
        sandbox.admin.step()
        with pytest.raises(BrokerError):
            session.run_iteration()
        assert silent, "the hand order's account read went unanswered"
        rows = RiskEventRow.select().where(RiskEventRow.event_type == MANUAL_REFUSED)
        said = [row.action_taken for row in rows]
        assert len(said) == 1 and said[0].startswith(
            "manual buy SPY not sent: the broker did not answer"
        ), f"the refusal is missing from the audit trail: {said}"
        assert not [o for o in LiveOrder.select() if o.symbol == "SPY" and "manual" in o.rationale]
        line = session.outage_report([], ["no answer"])  # the runner's line for the cycle
        assert [e.action_taken for e in line.risk_events] == said, "not on the desk's line"
        again = session.outage_report([], ["no answer"])  # said once, not at every look
        assert not again.risk_events
    finally:
        session.broker.close()
