"""The engine's side of the app's controls: resume where the risk state allows it, and a
flatten asked for after the halt (the app halts first, then asks)."""

from __future__ import annotations

from tui_trader.engine.session import RESUME_REFUSED
from tui_trader.risk.gate import MANUAL_KILL, RESET
from tui_trader.risk.state import DAILY_LOSS
from tui_trader.session.local import LocalSettings, build_local_session
from tui_trader.session.runner import SessionRunner


def _session(db_path, clock, iterations: int = 30):
    """A local session that has traded a little."""
    session = build_local_session(LocalSettings(db=db_path), clock)
    SessionRunner(session, iterations).run()
    return session


def test_resume_lifts_a_manual_halt_and_is_recorded(db_path, frozen) -> None:
    """Kill, then resume: ACTIVE again, with risk_reset in the report."""
    session = _session(db_path, frozen)
    session.request_kill("user")
    assert session.apply_kill_requests().risk_events[0].event_type == MANUAL_KILL
    assert session.resume_refusal() is None
    session.request_resume("user")
    report = session.apply_kill_requests()
    assert [e.event_type for e in report.risk_events] == [RESET]
    assert not session.risk.state.halted


def test_resume_is_refused_during_a_daily_loss_halt(db_path, frozen) -> None:
    """A daily-loss halt lasts the day: the resume is refused and says why."""
    session = _session(db_path, frozen)
    session.risk.halt(DAILY_LOSS, 2.5, 2.0, "test")
    assert "next trading day" in session.resume_refusal()
    session.request_resume("user")
    report = session.apply_kill_requests()
    assert report.risk_events[0].event_type == RESUME_REFUSED
    assert session.risk.state.halted


def test_flatten_after_the_halt_closes_positions_in_the_next_cycle(db_path, frozen) -> None:
    """Halt first; a later kill with flatten closes every position even though already halted."""
    session = _session(db_path, frozen)
    assert session.broker.positions()
    session.request_kill("user")
    session.run_iteration()
    assert session.risk.state.halted and session.broker.positions()
    session.request_kill("user", flatten=True)
    session.run_iteration()
    session.run_iteration()
    assert not session.broker.positions()
