"""A halt keeps the reason it began with when something else halts the session again.

The desk (and a trader about to resume) must see why trading first stopped. Before, when a
session already halted by the kill switch then heard the broker contradict itself, the desk's
halt line named the contradiction and the kill's reason was gone from it. Both halts stay in
the audit trail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import alpaca_session, working_spy_limit
from tui_trader.engine.halts import BROKER_CONTRADICTION
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import RiskEventRow
from tui_trader.store.risk_store import read_risk_state
from tui_trader.tui.state import DeskState


def test_a_contradiction_after_a_kill_keeps_the_kill_as_the_halts_reason(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    session = alpaca_session(sandbox, tmp_path / "h.db")
    desk = DeskState()
    now = datetime(2026, 12, 4, 15, tzinfo=UTC)
    try:
        cid = working_spy_limit(session, sandbox)
        session.request_kill("ops", reason="earnings call")
        desk.apply(session.apply_kill_requests(), now)
        assert desk.halt_reason == f"{MANUAL_KILL}: kill switch pressed by ops: earnings call"
        raw = trading.get_order_by_client_id(cid)  # the broker then says 20 of 10 filled
        view = raw.model_copy(
            update={
                "filled_qty": "20",
                "status": "filled",
                "updated_at": raw.updated_at + timedelta(seconds=1),
                "filled_avg_price": raw.limit_price,
            }
        )
        session.broker.feed.events.put(("fill", view, None))
        sandbox.admin.step()
        report = session.run_iteration()
        desk.apply(report, now)
        assert desk.halted
        assert desk.halt_reason == f"{MANUAL_KILL}: kill switch pressed by ops: earnings call"
        [halt] = [e for e in report.risk_events if e.event_type == BROKER_CONTRADICTION]
        assert f"already halted for {MANUAL_KILL}" in halt.action_taken
        row = read_risk_state(session.audit.db, session.account_key)
        assert row is not None and row.halted and row.halt_reason == MANUAL_KILL
        stored = [r.event_type for r in RiskEventRow.select().order_by(RiskEventRow.id)]
        assert stored.index(MANUAL_KILL) < stored.index(BROKER_CONTRADICTION)
    finally:
        session.broker.close()
