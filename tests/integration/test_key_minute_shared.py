"""Another desk on the same Alpaca key, unseen by this desk's database, spends the key's minute:
this desk's reads leave the last requests to its kill switch.

The sessions of one store share the request budget through the sessions table, but a desk on
another SQLite file or machine (or another program on the key) spends the same 200 requests a
minute unseen. Before, this desk's reads then spent the key's last requests, and its kill
switch met a 429 and a pause: the working order it meant to cancel stayed working. Every
answer carries ``X-RateLimit-Remaining``, and reads now stop while the reserve is left.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session, spend_key_minute, working_spy_limit
from tui_trader.brokers import Throttled
from tui_trader.brokers.alpaca_budget import ACCOUNT_RESERVE
from tui_trader.sandbox.testing import running_sandbox


def test_a_busy_neighbour_on_the_key_leaves_the_kill_switch_its_cancel(tmp_path: Path) -> None:
    with running_sandbox(faults="rate_limit=200") as sb:
        session = alpaca_session(sb, tmp_path / "k.db")
        try:
            working_spy_limit(session, sb, qty=5)
            spend_key_minute(sb, ACCOUNT_RESERVE + 3)
            skipped = []
            for _ in range(6):  # the desk goes on cycling while the neighbour is busy
                sb.admin.step()
                try:
                    session.run_iteration()
                except Throttled as exc:  # the runner skips the cycle and says this
                    skipped.append(str(exc))

            session.request_kill(who="test")
            report = session.apply_kill_requests()
            [halt] = [e for e in report.risk_events if e.halts]
            assert "may still be working" not in halt.action_taken, halt.action_taken
            assert sb.admin.state()["orders"]["open"] == 0, "the working buy is still working"
            assert any("nearly spent" in why for why in skipped), skipped  # and said why
        finally:
            session.broker.close()
