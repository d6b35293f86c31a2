"""A resume pressed while the broker does not answer is refused; the desk runs on, halted.

A resume (ctrl+r) restarts the drawdown peak from the account's equity, read from the broker
then. Between bars, while the broker did not answer (an outage: the runner retries every few
seconds), that read's error left the pass and ended the whole run: the desk said ``failed``,
stopped following its orders' fills, and wrote a ``session_error`` halt over the halt it was
asked to lift. Now the resume is refused in words (``resume by ... refused: the broker did not
answer``) and the desk keeps running halted; pressed again once the broker answers, it goes
through. A local session whose broker can be cut.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.brokers import BrokerError
from tui_trader.core.domain import Account, IterationReport
from tui_trader.engine.session import RESUME_REFUSED
from tui_trader.session.runner import SessionRunner


def test_a_resume_during_an_outage_is_refused_and_the_desk_runs_on(tmp_path: Path) -> None:
    """Halted by ctrl+k; the broker stops answering; ctrl+r. Before: the run ended
    ``failed``. Now the resume is refused and the run goes on halted; pressed again with the
    broker back, it lifts the halt."""
    session = make_session(tmp_path / "desk.db")
    session.run_iteration()
    session.request_kill(who="test")
    session.run_iteration()
    assert session.risk.state.halted
    read = session.broker.account

    def unanswered() -> Account:
        raise BrokerError("account: connection refused")

    session.broker.account = unanswered  # type: ignore[method-assign]
    runner = SessionRunner(session, every=0.01, outage_budget=60.0)
    reports: list[IterationReport] = []

    def on_report(report: IterationReport) -> None:
        reports.append(report)
        if len(reports) == 1:  # the first skipped cycle: the user presses ctrl+r
            session.request_resume("test")
        elif len(reports) > 20 or any(e.event_type == RESUME_REFUSED for e in report.risk_events):
            runner.stop()

    runner.on_report = on_report
    result = runner.run()
    session.broker.account = read  # type: ignore[method-assign]
    assert result.status == "stopped", result.error
    [refused] = [e for r in reports for e in r.risk_events if e.event_type == RESUME_REFUSED]
    assert "the broker did not answer" in refused.action_taken, refused.action_taken
    assert session.risk.state.halted and session.risk.state.halt_reason == "manual_kill"
    session.request_resume("test")
    session.run_iteration()
    assert not session.risk.state.halted
