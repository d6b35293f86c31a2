"""Two sessions on one Alpaca account share its request budget: together they stay under the
key's 200 requests a minute, and a session that ends gives its share back.

Both sessions run in this process against the sandbox (its 200-a-minute limit per key and API,
Alpaca's), on one database, their budgets and heartbeats on one virtual clock that their own
waits move: a minute of pacing runs in a few seconds of real time, well inside the sandbox's
sliding minute, so every request the two sent counts against the same real minute.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from pathlib import Path

import pytest

from tests.conftest import age_heartbeat, make_session
from tests.integration.alpaca_helpers import alpaca_session
from tui_trader.brokers import BrokerError, Throttled, alpaca_budget, alpaca_calls
from tui_trader.sandbox.testing import running_sandbox
from tui_trader.session import alpaca as alpaca_session_module
from tui_trader.store import session_rows


class VirtualTime:
    """One clock for both sessions' budgets and heartbeats; a budget's wait moves it."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


class VirtualStop:
    """A client's stop event as its budget sees it: a wait moves the virtual clock."""

    def __init__(self, stop: threading.Event, clock: VirtualTime) -> None:
        self.stop = stop
        self.clock = clock

    def wait(self, seconds: float) -> bool:
        self.clock.t += seconds
        return self.stop.is_set()


@pytest.fixture
def virtual_time(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    """Sessions built from here on pace (their budgets' clocks and waits) and beat on one
    ``VirtualTime``."""
    clock = VirtualTime()
    budget = functools.partial(alpaca_budget.RequestBudget, clock=clock)
    monkeypatch.setattr(alpaca_session_module, "RequestBudget", budget)
    metered = alpaca_budget.metered
    monkeypatch.setattr(
        alpaca_calls,
        "metered",
        lambda request, budget, stop: metered(request, budget, VirtualStop(stop, clock)),
    )
    monkeypatch.setattr(session_rows, "_since_boot", clock)
    return clock


def _cycles(sb, sessions, clock: VirtualTime, until: float) -> None:
    """Each session asks for as many cycles as it can get (several a virtual second, one bar
    each) until the virtual clock reaches ``until``; a cycle the budget holds back is skipped,
    as the runner skips it."""
    while clock.t < until:
        for _ in range(3):
            sb.admin.step()
            for session in sessions:
                with contextlib.suppress(Throttled, BrokerError):
                    session.run_iteration()
        clock.t += 0.5


def test_two_sessions_on_one_account_stay_under_the_key_limit(
    tmp_path: Path, virtual_time: VirtualTime
) -> None:
    """Each asks for ~12 trading requests a virtual second for a virtual minute: paced at 180
    a minute each they sent ~380 to the key's 200 and met 429s; sharing, they send ~190 and
    meet none."""
    db = tmp_path / "shared.db"
    start = virtual_time.t
    with running_sandbox(faults="rate_limit=200", speed=600) as sb:
        first = alpaca_session(sb, db, symbols=("SPY",), requests_per_minute=180)
        second = alpaca_session(sb, db, symbols=("QQQ",), requests_per_minute=180)
        sessions = (first, second)
        try:
            _cycles(sb, sessions, virtual_time, start + 60.0)
        finally:
            for session in sessions:
                session.broker.close()
        budgets = [b for s in sessions for b in (s.broker.budget, s.market.budget)]
        sent = sum(s.broker.budget.requests for s in sessions)
        assert sent >= 150, f"the sessions asked for too little to test the limit ({sent})"
        assert [b.throttled for b in budgets] == [0, 0, 0, 0], "no 429 from the key's limit"
        assert all(b.sessions == 2 for b in budgets)


def test_a_session_that_ends_gives_its_share_back(tmp_path: Path, virtual_time) -> None:
    """The second session's start halves the first's budget at the first's next heartbeat;
    its end (its row closed) restores it at the one after."""
    db = tmp_path / "shared.db"
    with running_sandbox(faults="rate_limit=200", speed=600) as sb:
        first = alpaca_session(sb, db, symbols=("SPY",), requests_per_minute=120)
        try:
            budget = first.broker.budget
            assert (budget.sessions, budget.rate * 60) == (1, 120)
            second = alpaca_session(sb, db, symbols=("QQQ",), requests_per_minute=120)
            try:
                assert second.broker.budget.sessions == 2, "the newcomer counts the first"
                virtual_time.t += 1.0  # the first's next heartbeat is due
                first.audit.beat()
                assert (budget.sessions, budget.rate * 60) == (2, 60)
                assert first.market.budget.rate * 60 == 60, "the data API's budget too"
            finally:
                second.broker.close()
            second.finish("stopped")
            virtual_time.t += 1.0
            first.audit.beat()
            assert (budget.sessions, budget.rate * 60) == (1, 120)
        finally:
            first.broker.close()


def test_the_share_counts_the_live_sessions_of_the_account(store) -> None:
    """Recounted at each heartbeat from the sessions table, on SQLite and on a PostgreSQL store
    (where the sessions of several machines meet): another session of the account counts while
    its heartbeat is fresh, not once it has stopped beating or its row is closed; a session of
    another account never."""
    first = make_session(store, account_key="alpaca:shared")
    told: list[int] = []
    first.audit.on_share = told.append
    second = make_session(store, account_key="alpaca:shared")
    make_session(store, account_key="alpaca:another")
    first.audit.beat(force=True)
    assert told[-1] == 2
    assert second.audit.session is not None
    age_heartbeat(second.audit.session.id, 600)  # hung or killed: its heartbeat stopped
    first.audit.beat(force=True)
    assert told[-1] == 1
    second.audit.beat(force=True)  # it beats again
    first.audit.beat(force=True)
    assert told[-1] == 2
    second.finish("stopped")
    first.audit.beat(force=True)
    assert told == [2, 1, 2, 1]


def test_the_rate_comes_from_the_command_line_or_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--requests-per-minute`` (over ``requests-per-minute`` in the settings file, over the
    default 180) is the rate the Alpaca session is built with."""
    from tui_trader.cli import live_alpaca, main
    from tui_trader.session.alpaca import AlpacaSetupError

    seen: list[float] = []

    def build(settings, endpoint, **_: object):
        seen.append(settings.requests_per_minute)
        raise AlpacaSetupError("not connecting in this test")

    monkeypatch.setattr(live_alpaca, "build_alpaca_session", build)
    monkeypatch.setenv("APCA_API_KEY_ID", "PKRATE000000")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "rate-secret-000000")
    monkeypatch.setenv("APCA_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "a.db")
    file_text = "requests-per-minute = 900\n"
    for text, extra in [(None, []), (file_text, []), (file_text, ["--requests-per-minute", "60"])]:
        if text is not None:
            (tmp_path / "tui-trader.toml").write_text(text)
        with pytest.raises(SystemExit) as exit_info:
            main(["live", "paper", "--db", db, *extra])
        assert exit_info.value.code == 2
        assert "not connecting in this test" in capsys.readouterr().err
    assert seen == [180, 900, 60]
