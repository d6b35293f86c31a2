"""Positions changed outside the session (a trade by hand at the broker) are said, not undone.

The session trades on the sandbox through the real alpaca-py client; "the user" buys shares
with a client of their own, as in Alpaca's dashboard. Before, the next cycle sold them again,
quietly: the rebalance saw more shares than its target and sent a sell for the difference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.engine.outside_changes import OUTSIDE_CHANGE
from tui_trader.learning.setup import LearningSettings
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import LiveOrder, RiskEventRow

RALLY = {"SPY": 0.8, "QQQ": 0.8, "IWM": 0.8}


def _spy_held(trading: Any) -> float:
    """SPY shares the broker holds."""
    return sum(float(p.qty) for p in trading.get_all_positions() if p.symbol == "SPY")


def test_shares_bought_by_hand_are_left_alone_and_said(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "desk.db", learning=LearningSettings("momentum"))
    try:
        for _ in range(3):  # the rally: the session buys SPY and holds it
            sandbox.admin.step(shock=RALLY)
            session.run_iteration()
        own = _spy_held(trading)
        assert own > 0
        trading.submit_order(
            MarketOrderRequest(symbol="SPY", qty=50, side="buy", time_in_force="day")
        )
        notes = []
        for _ in range(3):  # the hand order fills with the next bar
            sandbox.admin.step(shock=RALLY)
            report = session.run_iteration()
            notes += list(report.notes)
        sells = LiveOrder.select().where((LiveOrder.symbol == "SPY") & (LiveOrder.side == "sell"))
        assert sells.count() == 0, "the session sold the shares bought by hand"
        assert _spy_held(trading) == own + 50
        events = list(RiskEventRow.select().where(RiskEventRow.event_type == OUTSIDE_CHANGE))
        assert len(events) == 1
        assert events[0].symbol == "SPY"
        assert f"the broker holds {own + 50:g}" in events[0].detail
        assert f"account for {own:g}" in events[0].detail
        assert any("SPY changed outside this session" in note for note in notes)
    finally:
        session.finish("stopped")
        session.broker.close()
