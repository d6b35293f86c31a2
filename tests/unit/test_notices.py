"""The engine's notices: what it tells ``notify`` (halts, costly fills, its end), and that a
listener can never break a cycle. No alert library is involved: the callback is a list."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import make_session
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.engine.notices import SESSION_END, SLIPPAGE, Notice
from tui_trader.market import MarketDataError
from tui_trader.risk.gate import DRAWDOWN, RiskLimits
from tui_trader.session.runner import SessionRunner


def _run_until_halt(session) -> None:
    """Cycles until the session halts (bounded)."""
    for _ in range(200):
        session.run_iteration()
        if session.risk.state.halted:
            return
    raise AssertionError("no halt")


def test_a_halt_is_told_with_its_numbers(db_path: Path) -> None:
    """The drawdown halt: mode, account, measured value, limit, action and equity."""
    heard: list[Notice] = []
    session = make_session(db_path, limits=RiskLimits(max_drawdown_pct=0.3))
    session.notify = heard.append
    _run_until_halt(session)
    (halt,) = [n for n in heard if n.event == DRAWDOWN]
    assert halt.mode == "local" and halt.account == session.account_key
    assert halt.value >= 0.3 and halt.limit == 0.3
    assert halt.action.startswith("halted trading") and "cancelled" in halt.action
    assert halt.equity == session.broker.account().equity
    assert halt.severity == "failure" and halt.title() == "tui-trader LOCAL: drawdown_kill_switch"
    assert "value: " in halt.body() and "(limit 0.30)" in halt.body()


def test_fills_above_the_slippage_threshold_are_told(db_path: Path) -> None:
    """5 bps of simulated slippage: told above a 4 bps threshold, silent under a 6 bps one."""
    heard: list[Notice] = []
    session = make_session(db_path, costs=PaperCosts(slippage_bps=5.0))
    session.notify, session.slippage_alert_bps = heard.append, 4.0
    for _ in range(40):
        session.run_iteration()
    costly = [n for n in heard if n.event == SLIPPAGE]
    assert costly and all(4.0 < n.value < 6.0 and n.limit == 4.0 for n in costly)
    quiet: list[Notice] = []
    other = make_session(db_path.with_name("b.db"), costs=PaperCosts(slippage_bps=5.0))
    other.notify, other.slippage_alert_bps = quiet.append, 6.0
    for _ in range(40):
        other.run_iteration()
    assert not [n for n in quiet if n.event == SLIPPAGE]


def test_the_end_is_told_even_when_the_session_fails(db_path: Path) -> None:
    """A data failure ends the run as failed; the end notice carries the error."""
    heard: list[Notice] = []
    session = make_session(db_path)
    session.notify = heard.append

    def broken():
        raise MarketDataError("feed gone")

    session.market.next_bars = broken  # type: ignore[method-assign]
    result = SessionRunner(session, iterations=5).run()
    assert result.status == "failed"
    end = heard[-1]
    assert end.event == SESSION_END and end.action == "session failed"
    assert "feed gone" in end.detail and end.severity == "failure"


def test_a_listener_that_raises_never_breaks_a_cycle(db_path: Path) -> None:
    """notify blowing up is ignored: the halt is still written and the cycles go on."""

    def explode(notice: Notice) -> None:
        raise RuntimeError("alert system down")

    session = make_session(db_path, limits=RiskLimits(max_drawdown_pct=0.3))
    session.notify = explode
    _run_until_halt(session)
    halted_at = session.iteration
    for _ in range(3):
        assert session.run_iteration() is not None
    assert session.iteration == halted_at + 3
    session.finish("completed")
