"""An outage skips cycles, then halts naming its cause; the session records fills and ends in a
known state with a summary from the last known values (issue 12, section 5)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from rich.console import Console

from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.test_alpaca_trading import RALLY, client_for
from tui_trader.cli.session_output import summary
from tui_trader.engine.session import BROKER_ERROR
from tui_trader.sandbox.testing import running_sandbox, wait_until
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import LiveOrder, RiskEventRow, SessionRow


def test_an_outage_past_the_budget_halts_with_its_cause_and_fills_are_still_recorded(
    tmp_path: Path,
) -> None:
    with running_sandbox(faults="partial_rate=1.0") as sb:
        session = alpaca_session(sb, tmp_path / "o.db")
        reports = []
        try:
            for _ in range(8):  # the rally buys; each order fills half now, half next bar
                sb.admin.step(shock=RALLY)
                if session.run_iteration().orders_sent:
                    break
            half = LiveOrder.select().where(LiveOrder.status == "partially_filled")
            wait_until(
                lambda: session.sync_orders() is not None and half.exists(),
                what="a half-filled order recorded",
            )
            sb.admin.set_faults(error_rate=1.0)  # every REST answer is a 500 from now on
            runner = SessionRunner(session, every=0.05, on_report=reports.append, outage_budget=1.0)
            outcome = []
            thread = threading.Thread(target=lambda: outcome.append(runner.run()), daemon=True)
            thread.start()
            wait_until(lambda: session.risk.state.halted, timeout=15, what="the outage halt")
            sb.admin.step()  # the rest fills; only the stream can tell (REST answers 500)
            wait_until(
                lambda: not half.exists(), timeout=15, what="the fills recorded during the outage"
            )
            runner.stop()
            thread.join(timeout=15)
            out = io.StringIO()
            summary(Console(file=out, width=200), session, outcome[0], "[LIVE]")
        finally:
            session.broker.close()
        (result,) = outcome
        assert result.status == "stopped", "an outage does not fail the session"
        skipped = [n for r in reports for n in r.notes if "cycle skipped" in n]
        assert skipped and "HTTP 500" in skipped[0]
        (event,) = RiskEventRow.select().where(RiskEventRow.event_type == BROKER_ERROR)
        assert "no answer from the broker or the market data" in event.detail
        assert "HTTP 500" in event.detail, "the real cause is named"
        assert "fills recorded" in event.action_taken
        assert session.risk.state.halt_reason == BROKER_ERROR
        assert SessionRow.get().status == "stopped"
        text = out.getvalue()
        assert "last known values" in text and "HALTED" in text
        remote = {str(o.client_order_id): float(o.filled_qty) for o in _orders(sb)}
        for row in LiveOrder.select():
            assert row.filled_qty == remote[row.client_order_id]


def _orders(sb):
    """The sandbox's orders, read once the faults are off."""
    from tests.integration.alpaca_helpers import sandbox_orders

    sb.admin.clear_faults()
    return sandbox_orders(client_for(sb))
