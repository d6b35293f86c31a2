"""A flattening halt keeps the user's own stop under a holding it leaves open.

A flatten closes the desk's positions only: a holding of the user's in a symbol the desk does
not trade is left open (``left open, not the desk's: 5 IWM``). Its cancel, though, took every
order on the account but other desks' closes, the user's stop-loss under that holding with it:
the flatten left the holding open and unprotected, and nothing put the stop back. The closes
need the shares of orders in the symbols they sell, not in others. Now, in a symbol the desk
does not trade, what any halt keeps stays (protective exits, orders placed outside the desk,
another database's desks' orders). Sandbox.
"""

from __future__ import annotations

from pathlib import Path

from alpaca.trading.requests import MarketOrderRequest, StopOrderRequest

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.broker_protection import client
from tui_trader.core.domain import TradingState
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import running_sandbox, wait_until


def test_a_flatten_keeps_the_users_stop_under_a_holding_it_leaves_open(tmp_path: Path) -> None:
    """The user holds 5 IWM with a stop-loss of their own; the desk trades SPY and buys it.
    Kill with flatten: SPY is closed, IWM left open. Before: the IWM stop was cancelled. Now
    it works on, and the halt's words say an order placed outside was left working."""
    with running_sandbox() as sb:
        trading = client(sb)
        trading.submit_order(
            MarketOrderRequest(symbol="IWM", qty=5, side="buy", time_in_force="day")
        )
        sb.admin.step()

        def held() -> dict[str, float]:
            return {p.symbol: float(p.qty) for p in trading.get_all_positions()}

        wait_until(lambda: held().get("IWM", 0.0) == 5, what="the hand buy filled")
        price = float(sb.admin.state()["prices"]["IWM"])
        stop = trading.submit_order(
            StopOrderRequest(
                symbol="IWM",
                qty=5,
                side="sell",
                time_in_force="gtc",
                stop_price=round(price * 0.8, 2),
            )
        )
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",))
        try:
            for _ in range(8):  # the rally: the desk buys SPY (filled with the next bar)
                sb.admin.step(shock={"SPY": 1.0})
                session.run_iteration()
                if held().get("SPY", 0.0) > 0:
                    break
            assert held().get("SPY", 0.0) > 0
            session.request_kill(who="test", flatten=True)
            report = session.apply_kill_requests()
            assert report is not None and report.state is TradingState.HALTED
            sb.admin.step()  # the closing order fills with the next bar
            wait_until(lambda: held().get("SPY", 0.0) == 0, what="the desk's SPY closed")
            assert held().get("IWM", 0.0) == 5
            status = str(trading.get_order_by_id(stop.id).status.value)
            assert status in ("new", "accepted"), f"the user's IWM stop was {status}"
            (event,) = [e for e in report.risk_events if e.event_type == MANUAL_KILL]
            assert "placed outside tui-trader left working" in event.action_taken, event
        finally:
            session.broker.close()
