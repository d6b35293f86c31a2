"""A second outage halts too, after the first one's halt was reset.

The runner halts a session once no cycle has succeeded for the outage budget
(``halt_for_outage``). It remembered "the outage halted" for the whole run: once the broker
answered again and the user reset that halt (ctrl+r), a later outage never halted. Cycles were
skipped while it lasted, but orders working then kept working, no ``broker_error`` event was
written (no alert, no other desk of the account stopped), the notes said "(halted; fills still
recorded)" of a session that was not halted, and it traded on as soon as the data came back.
Now an outage past the budget halts whenever the desk is not halted. A local session whose
market data can be cut, with a zero budget: the first failed cycle is past it.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.core.domain import Bar, IterationReport
from tui_trader.engine.session import BROKER_ERROR
from tui_trader.market import MarketDataError
from tui_trader.session.runner import SessionRunner
from tui_trader.store.models import RiskEventRow


def test_an_outage_after_a_reset_outage_halt_halts_again(tmp_path: Path) -> None:
    """Outage (halt), data back, reset, trading; outage again: the session halts again and
    writes a second ``broker_error`` event."""
    session = make_session(tmp_path / "desk.db")
    market = session.market
    next_bars = market.next_bars
    cut = [False]

    def bars() -> dict[str, Bar] | None:
        if cut[0]:
            raise MarketDataError("data service unreachable")
        return next_bars()

    market.next_bars = bars  # type: ignore[method-assign]
    runner = SessionRunner(session, outage_budget=0.0)
    states: list[bool] = []

    def on_report(report: IterationReport) -> None:
        """The script: a good cycle, an outage, a good cycle with the resume, an outage."""
        states.append(session.risk.state.halted)
        step = len(states)
        if step == 1:  # trading: the data goes away
            cut[0] = True
        elif step == 2:  # the outage halted: the data comes back, the user resets
            cut[0] = False
            session.request_resume("test")
        elif step == 3:  # trading again: the data goes away again
            cut[0] = True
        else:
            runner.stop()

    runner.on_report = on_report
    result = runner.run()
    assert result.status == "stopped"
    assert states[:3] == [False, True, False], states
    assert states[3], "the second outage did not halt the session"
    assert session.risk.state.halted and session.risk.state.halt_reason == BROKER_ERROR
    events = RiskEventRow.select().where(RiskEventRow.event_type == BROKER_ERROR)
    assert len(events) == 2, [e.action_taken for e in events]
