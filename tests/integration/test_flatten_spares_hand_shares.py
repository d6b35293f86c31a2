"""A flattening halt closes the desk's positions, not the user's own shares on the account.

An Alpaca account is often more than the desk: long-term holdings bought in Alpaca's dashboard,
shares of a symbol bought by hand beside the desk's. The desk never trades against them
(``engine.outside_changes``: the symbol is left alone, its protective exit covers only the
desk's shares). Before, a halt with flatten (``--flatten-on-halt``, or the kill switch's
flatten) sold every position on the account: the user's holdings in symbols the desk does not
even trade, and the shares bought by hand in one it does. Now it closes what the desk's own
fills account for and says what it left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alpaca.trading.requests import MarketOrderRequest

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.broker_protection import client
from tui_trader.core.domain import TradingState
from tui_trader.learning.setup import LearningSettings
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import running_sandbox, wait_until

RALLY = {"SPY": 1.0, "QQQ": 1.0, "IWM": 1.0}


def _held(trading: Any) -> dict[str, float]:
    """Shares held at the sandbox, by symbol."""
    return {p.symbol: float(p.qty) for p in trading.get_all_positions()}


def _buy_by_hand(sb: Any, trading: Any, symbol: str, qty: int) -> None:
    """The user's market buy in Alpaca's dashboard, filled with the next bar."""
    before = _held(trading).get(symbol, 0.0)
    trading.submit_order(
        MarketOrderRequest(symbol=symbol, qty=qty, side="buy", time_in_force="day")
    )
    sb.admin.step()
    wait_until(lambda: _held(trading).get(symbol, 0.0) == before + qty, what="the hand buy filled")


def test_a_flatten_leaves_the_users_holding_in_a_symbol_the_desk_does_not_trade(
    tmp_path: Path,
) -> None:
    with running_sandbox() as sb:
        trading = client(sb)
        _buy_by_hand(sb, trading, "IWM", 5)  # a holding of the user's own
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",))
        try:
            for _ in range(6):  # the rally: the desk buys SPY
                sb.admin.step(shock=RALLY)
                session.run_iteration()
                settle(sb, session)
                if _held(trading).get("SPY", 0.0) > 0:
                    break
            assert _held(trading).get("SPY", 0.0) > 0
            session.request_kill(who="test", flatten=True)
            report = session.apply_kill_requests()
            assert report is not None and report.state is TradingState.HALTED
            sb.admin.step()  # the closing orders fill with the next bar
            settle(sb, session)
            held = _held(trading)
            assert held.get("SPY", 0.0) == 0, "the desk's own position is closed"
            assert held.get("IWM", 0.0) == 5, "the user's own holding was sold"
            (event,) = [e for e in report.risk_events if e.event_type == MANUAL_KILL]
            assert "flattening 1 position(s)" in event.action_taken
            assert "IWM" in event.action_taken and "not the desk's" in event.action_taken
        finally:
            session.broker.close()


def test_a_flatten_sells_the_desks_shares_and_keeps_those_bought_by_hand(
    tmp_path: Path,
) -> None:
    with running_sandbox() as sb:
        trading = client(sb)
        session = alpaca_session(
            sb, tmp_path / "f.db", symbols=("SPY",), learning=LearningSettings("momentum")
        )
        try:
            for _ in range(3):  # the rally: the desk buys SPY and holds it
                sb.admin.step(shock=RALLY)
                session.run_iteration()
            settle(sb, session)
            own = _held(trading)["SPY"]
            assert own > 0
            _buy_by_hand(sb, trading, "SPY", 50)
            for _ in range(3):  # the desk notices, and leaves the symbol alone
                sb.admin.step(shock=RALLY)
                session.run_iteration()
            assert "SPY" in session.outside.holds
            session.request_kill(who="test", flatten=True)
            report = session.apply_kill_requests()
            assert report is not None and report.state is TradingState.HALTED
            sb.admin.step()  # the closing order fills with the next bar
            settle(sb, session)
            assert _held(trading).get("SPY", 0.0) == 50, "the desk sold the shares bought by hand"
            (event,) = [e for e in report.risk_events if e.event_type == MANUAL_KILL]
            assert "left open, not the desk's: 50 SPY" in event.action_taken
        finally:
            session.broker.close()
