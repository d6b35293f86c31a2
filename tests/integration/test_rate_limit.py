"""A session stays under the broker's request limit, and backs off instead of halting when
throttled (issue 12, section 5), against the sandbox's sliding-minute limiter."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import requests

from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.session.runner import SessionRunner


def _run_for(session, seconds: float, reports: list) -> object:
    """Run the session as fast as it will go for ``seconds`` (the market moving at speed)."""
    runner = SessionRunner(session, every=0.0, on_report=reports.append)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(runner.run()), daemon=True)
    thread.start()
    stop = threading.Event()
    stop.wait(seconds)
    runner.stop()
    thread.join(timeout=20)
    return outcome[0]


FAST_MINUTE = 6.0
"""The sandbox's minute in the first test, a tenth of Alpaca's: the session's budget is given
ten times the rate with the same burst, so a window sees what a minute saw (at most the 10
saved up and 20 earned, the limit's 30) and eight seconds hold more than a whole window. At
the real minute the budget's 3 s a token held the start alone for 15 s."""


def test_a_fast_session_stays_under_the_limit(tmp_path: Path) -> None:
    """With the sandbox limited to 30 requests a minute per API and the session's budget at
    20 a minute (10 saved up), eight seconds of cycles as fast as possible meet no 429 and no
    halt (the minute is ``FAST_MINUTE``)."""
    scale = 60.0 / FAST_MINUTE
    with running_sandbox(faults="rate_limit=30", speed=600, rate_window_s=FAST_MINUTE) as sb:
        session = alpaca_session(sb, tmp_path / "r.db", requests_per_minute=int(20 * scale))
        reports: list = []
        try:
            result = _run_for(session, 8.0, reports)
        finally:
            session.broker.close()
        broker_budget = session.broker.budget  # type: ignore[attr-defined]
        data_budget = session.market.budget  # type: ignore[attr-defined]
        assert result.status == "stopped" and not session.risk.state.halted
        assert broker_budget.throttled == 0 and data_budget.throttled == 0, "no 429 answered"
        assert broker_budget.waited > 0 or data_budget.waited > 0, "the budget held requests back"
        assert sum(1 for r in reports if r.iteration) >= 1


def test_throttled_by_the_broker_the_session_backs_off_and_does_not_halt(tmp_path: Path) -> None:
    """Another client spends the key's whole minute: the session's requests get 429, and the
    session skips its cycles saying so, sends nothing, and stays active."""
    with running_sandbox(faults="rate_limit=30", speed=600) as sb:
        session = alpaca_session(sb, tmp_path / "t.db")
        headers = {"APCA-API-KEY-ID": sb.key_id, "APCA-API-SECRET-KEY": sb.secret}
        with requests.Session() as other:
            for path in ("/v2/clock", "/v2/stocks/bars/latest?symbols=SPY"):
                while other.get(sb.base_url + path, headers=headers, timeout=5).status_code != 429:
                    pass
        reports: list = []
        try:
            started = time.monotonic()
            result = _run_for(session, 3.0, reports)
            took = time.monotonic() - started
        finally:
            session.broker.close()
        assert result.status == "stopped"
        assert not session.risk.state.halted, "throttling is a reason to wait, not to halt"
        notes = [n for r in reports for n in r.notes]
        assert any(n.startswith("throttled:") and "skipped" in n for n in notes)
        assert took < 10, "stopping is not held up by the wait for the limit"
