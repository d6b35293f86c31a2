"""A halt for an outage cancels the desk's open orders once the broker answers again.

When no cycle succeeds for the outage budget, the runner halts the session (``broker_error``,
``halt_for_outage``). The cancels a halt makes could not go out then (nothing answered), and
the next cycle, seeing itself halted already, did not make them either: a limit buy working
before the outage kept working, able to fill, under a desk that said HALTED. Now the first
cycle (or pass between bars) the broker answers cancels it and says so. Sandbox.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import file_rows
from tests.integration.alpaca_helpers import alpaca_session, sandbox_view, working_spy_limit
from tui_trader.sandbox.testing import SandboxHandle


@pytest.mark.parametrize("between_bars", [True, False], ids=["between-bars", "in-a-cycle"])
def test_an_outage_halt_cancels_the_working_limit_once_the_broker_answers(
    sandbox: SandboxHandle, tmp_path: Path, between_bars: bool
) -> None:
    """A limit buy of SPY works; the broker stops answering past the budget and the session
    halts. Before: the limit kept working through every later cycle. Now the first one after
    the outage cancels it, once."""
    db = tmp_path / "desk.db"
    session = alpaca_session(sandbox, db)
    try:
        limit = working_spy_limit(session, sandbox)
        session.halt_for_outage("ConnectionError: connection refused", 31.0)
        assert session.risk.state.halted
        assert session.halt_line().endswith("(open orders not cancelled yet: at the next cycle)")
        [(action,)] = file_rows(db, "SELECT action_taken FROM live_risk_events")
        assert "open orders are cancelled at the next cycle" in action, action
        assert sandbox_view(sandbox)[limit][0]  # the broker did not answer: nothing cancelled
        if between_bars:
            report = session.apply_kill_requests()
        else:
            sandbox.admin.step()
            report = session.run_iteration()
        assert report is not None
        assert not sandbox_view(sandbox)[limit][0], "the outage halt left the limit buy working"
        assert "the halt acted: cancelled 1 open order(s)" in report.notes, report.notes
        sandbox.admin.step()
        again = session.run_iteration()  # done: not acted on again
        assert not any("cancelled" in note for note in again.notes), again.notes
        assert session.halt_line().startswith("broker_error: no answer from the broker")
    finally:
        session.broker.close()
