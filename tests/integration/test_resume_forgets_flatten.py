"""A halt lifted before its flatten finished leaves no flatten behind for a later halt.

A kill with flatten is acted on again, cycle after cycle, until a pass finds nothing left to
close (its closes sent, not filled yet, keep it asked for). A resume (ctrl+r, or a
``risk reset`` adopted from another process) in that time lifted the halt but kept the flatten
asked for: the next halt, days later and not asking to flatten (a kill without flatten, a
drawdown trip), sold every position of the desk at market. Now lifting a halt ends what that
halt still owed. A local session always long on its symbols.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BuyAndHold, make_session
from tui_trader.risk.gate import MANUAL_KILL


def test_a_kill_without_flatten_after_a_resumed_flatten_keeps_the_positions(
    tmp_path: Path,
) -> None:
    """Long the three symbols; ctrl+k with flatten sends the closes; resumed at once, the
    desk buys back. Then ctrl+k without flatten: before, it flattened again ("flattening 3
    position(s)") and the positions were sold; now it only cancels, and they are kept."""
    session = make_session(tmp_path / "desk.db", strategies=[BuyAndHold()])
    for _ in range(3):
        session.run_iteration()
    held = {s for s, p in session.broker.positions().items() if p.qty > 0}
    assert held, "the desk bought nothing"
    session.request_kill(who="test", flatten=True)
    [first] = [e for e in session.run_iteration().risk_events if e.event_type == MANUAL_KILL]
    assert "flattening" in first.action_taken, first.action_taken
    session.request_resume("test")
    session.run_iteration()
    assert not session.risk.state.halted
    for _ in range(3):  # the closes fill; the desk buys back
        session.run_iteration()
    assert {s for s, p in session.broker.positions().items() if p.qty > 0} == held
    session.request_kill(who="test", flatten=False)
    [second] = [e for e in session.run_iteration().risk_events if e.event_type == MANUAL_KILL]
    assert "flattening" not in second.action_taken, second.action_taken
    for _ in range(2):
        session.run_iteration()
    kept = {s for s, p in session.broker.positions().items() if p.qty > 0}
    assert kept == held, "a kill without flatten sold the positions"
