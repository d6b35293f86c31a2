"""A monitor's kill request taken in the same cycle as the desk's own ctrl+k keeps its flatten.

The desk's ctrl+k (no flatten) and the monitor's kill switch with flatten land before the same
cycle. The session takes both: the monitor's request is marked taken with the halt. Before,
only the desk's press was acted on: the monitor's flatten was dropped, its request marked taken
all the same, and the positions stayed open with trading halted. Now a flatten asked by either
press is done, and the halt's words name the monitor's press too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import BuyAndHold, make_session
from tui_trader.risk.gate import MANUAL_KILL
from tui_trader.store.halt_requests import write_halt_request
from tui_trader.store.models import HaltRequest

PRESSED = datetime(2026, 12, 6, 14, 3, 7, tzinfo=UTC)


def test_a_monitor_flatten_taken_beside_the_desks_own_kill_still_flattens(
    tmp_path: Path,
) -> None:
    session = make_session(tmp_path / "audit.db", strategies=[BuyAndHold()])
    for _ in range(2):
        session.run_iteration()
    assert session.broker.positions(), "the desk holds its positions"
    assert session.audit.session is not None
    write_halt_request(session.audit.session.id, PRESSED, "monitor", "close it all", True)
    session.request_kill(who="desk")  # the desk's own ctrl+k, without flatten
    report = session.run_iteration()
    assert report is not None
    (halt,) = [e for e in report.risk_events if e.event_type == MANUAL_KILL]
    assert "flattening" in halt.action_taken, halt.action_taken
    assert "monitor" in halt.detail, halt.detail
    assert HaltRequest.select().where(HaltRequest.handled_at.is_null()).count() == 0
    session.run_iteration()  # the closing orders fill with the next bar
    assert session.broker.positions() == {}, "the monitor's flatten was dropped"
    session.finish("stopped")
