"""A new protective stop Alpaca refuses outright: the market fell through its price.

A desk prices its stop on the bar it has; by the time the stop is sent the market may be below
it, and Alpaca refuses a sell stop at or above the market with a 422 whose code (40010001) is
also the one it gives a duplicate client order id. The broker took the refusal for "the order
already arrived": it looked the order up, sent it a second time, and followed it as in doubt
("answer lost on two submissions"), so for the settlement window (two minutes) the desk
neither protected nor closed the position whose price was already through its stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import spy_held
from tests.integration.test_replace_race import _row
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.core.orders import OrderType
from tui_trader.risk.stops import StopRule
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.store.models import LiveOrder


def test_a_stop_refused_for_its_price_is_rejected_and_the_position_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk buys in a rally; as its first stop goes out, the market falls below the stop's
    price. The stop is recorded rejected with Alpaca's reason (sent once, not followed as in
    doubt), the desk says the position is NOT protected, and the next cycle closes it at
    market: its price is through the stop."""
    refused: list[str] = []
    submit = AlpacaBroker.submit

    def submit_after_a_drop(broker: AlpacaBroker, request: Any) -> Any:
        """The market falls through the first stop's price just before it is sent."""
        if request.order_type is OrderType.STOP and not refused:
            refused.append(request.client_order_id)
            now = float(sb.admin.state()["prices"]["SPY"])
            sb.admin.step(shock={"SPY": (request.stop_price * 0.98 / now - 1.0) * 100.0})
        return submit(broker, request)

    monkeypatch.setattr(AlpacaBroker, "submit", submit_after_a_drop)
    with running_sandbox() as sb:
        sb.admin.set_speed(0)
        session = alpaca_session(
            sb,
            tmp_path / "s.db",
            symbols=("SPY",),
            stop_loss=StopRule(pct=2.0),
            allocation_pct=10.0,
        )
        try:
            for _ in range(12):  # a rally: the desk buys, then protects what it bought
                sb.admin.step(shock={"SPY": 1.0})
                report = session.run_iteration()
                settle(sb, session)
                if refused:
                    break
            assert refused, "no stop was sent"
            held = spy_held(sb)
            assert held > 0
            row = _row(refused[0])
            assert row.status == "rejected", (row.status, row.error)
            assert "stop_price must be below the current price" in row.error
            said = " | ".join(e.action_taken for e in report.risk_events)
            assert "SPY is NOT protected: the broker rejected the exit" in said, said
            sb.admin.step()
            session.run_iteration()  # the price is through the stop: closed at market
            closes = [
                o for o in LiveOrder.select() if "already through the stop" in (o.rationale or "")
            ]
            assert [o.quantity for o in closes] == [held], [(o.status, o.quantity) for o in closes]
        finally:
            session.broker.close()
