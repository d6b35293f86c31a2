"""A kill that flattens, whose closing order the broker rejects, says the position is open.

The halt's words counted every closing order it sent as "flattening N position(s)", a rejected
one too: after a kill with flatten the desk said it was closing a position Alpaca had refused
to close, and nothing tried again. Now a refused close is named in the halt's event, with the
broker's reason and what to do.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session, settle
from tests.integration.test_alpaca_trading import RALLY, client_for
from tui_trader.sandbox.testing import running_sandbox


def test_a_flatten_the_broker_rejects_is_said_not_closed(tmp_path: Path) -> None:
    with running_sandbox() as sb:
        session = alpaca_session(sb, tmp_path / "f.db", symbols=("SPY",))
        try:
            for _ in range(12):  # a rally: the crossover buys
                sb.admin.step(shock=RALLY)
                if session.run_iteration().orders_sent:
                    break
            settle(sb, session)
            held = sb.admin.state()["positions"]["SPY"]
            assert held > 0
            trading = client_for(sb)  # the account suspended at Alpaca (the dashboard)
            config = trading.get_account_configurations()
            config.suspend_trade = True
            trading.set_account_configurations(account_configurations=config)
            session.request_kill(reason="test", flatten=True)
            [halt] = [e for e in session.apply_kill_requests().risk_events if e.halts]
            assert "flattening 0 position(s)" in halt.action_taken, halt.action_taken
            assert f"NOT closed: {held:g} SPY (the broker rejected it: " in halt.action_taken
            assert "rejected by user request" in halt.action_taken  # Alpaca's reason
            assert "(close them at the broker)" in halt.action_taken
            assert sb.admin.state()["positions"]["SPY"] == held
        finally:
            session.broker.close()
