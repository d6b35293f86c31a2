"""A desk that waits inside a cycle still beats: other desks keep finding it alive.

Inside a cycle a desk can wait a long time: on an account shared by many desks its part of
Alpaca's 200 requests a minute falls to a token every few seconds, and each request waits for
its own. Those waits wrote no heartbeat: past the heartbeat window (30 s) the other desks found
this one dead and took its symbols over, and its own check then stopped its orders. Here a
desk's every broker request waits for a token of a slow budget; the budget's clock and the
machine's boot clock run on the test's time, moved on by each wait (nothing sleeps), and after
each piece of a wait another desk's reader (its own thread and connection) judges the desk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Flipper, make_session
from tui_trader.brokers import BrokerError
from tui_trader.brokers.alpaca_budget import RequestBudget
from tui_trader.brokers.alpaca_calls import CallPolicy, with_retries
from tui_trader.brokers.paper import PaperBroker
from tui_trader.core.domain import IterationReport
from tui_trader.core.waiting import beating
from tui_trader.session.runner import SessionRunner
from tui_trader.store import liveness, session_rows
from tui_trader.store.models import SessionRow, database
from tui_trader.store.pg_url import PgUrl

SYMBOLS = ("SPY", "QQQ", "IWM")


class SharedTime:
    """The test's seconds: the budget's clock, the boot clock and the wall clock move by what
    the desk waits, and only then."""

    def __init__(self) -> None:
        self.passed = 0.0
        self.boot = session_rows._since_boot()
        self.up = liveness.uptime() or 1000.0
        self.wall = datetime.now(UTC)


class WaitingOnSharedTime(threading.Event):
    """The event a request waits on for its token: the wait moves the test's time on, then
    another desk looks at this one (``judge``), before the waiting desk does anything more."""

    def __init__(self, time: SharedTime, judge: Callable[[], None]) -> None:
        super().__init__()
        self.time = time
        self.judge = judge

    def wait(self, timeout: float | None = None) -> bool:
        self.time.passed += timeout or 0.0
        self.judge()
        return False


class MeteredBroker:
    """The simulated account behind a request budget: each call takes a token first, as every
    HTTP request of an Alpaca session does."""

    def __init__(self, broker: PaperBroker, budget: RequestBudget, stop: threading.Event) -> None:
        self._broker, self._budget, self._stop = broker, budget, stop

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._broker, name)
        if not callable(found):
            return found

        def metered(*args: Any, **kwargs: Any) -> Any:
            self._budget.acquire(self._stop)
            return found(*args, **kwargs)

        return metered


class OtherDesk:
    """Another desk judging this one, on its own thread (so its own connection)."""

    def __init__(self, now: SharedTime) -> None:
        self.now = now
        self.pool = ThreadPoolExecutor(1)
        self.session_id: int | None = None
        self.seen: list[tuple[float, bool]] = []
        """(test seconds, alive) at each look."""

    def judge(self) -> None:
        """Read this desk's row and judge it, as a desk deciding on a takeover does."""
        if self.session_id is None:
            return  # the row is not written yet
        row = self.pool.submit(SessionRow.get_by_id, self.session_id).result()
        self.seen.append((self.now.passed, self.pool.submit(liveness.is_alive, row).result()))

    def dead_at(self, since: float) -> list[int]:
        """The test seconds after ``since`` at which it found this desk dead."""
        return [round(at - since) for at, alive in self.seen if not alive]

    def close(self) -> None:
        """Close its connection and its thread."""
        self.pool.submit(database.close).result()
        self.pool.shutdown()


def _on_shared_time(monkeypatch: pytest.MonkeyPatch) -> SharedTime:
    """The boot clock and the wall clock, for the heartbeat and for liveness, on the test's
    time."""
    now = SharedTime()
    monkeypatch.setattr(session_rows, "_since_boot", lambda: now.boot + now.passed)
    monkeypatch.setattr(session_rows, "_wall_now", lambda: now.wall + timedelta(seconds=now.passed))
    for module in (session_rows, liveness):
        monkeypatch.setattr(module, "uptime", lambda: now.up + now.passed)
    return now


def test_a_desk_waiting_for_its_request_budget_stays_alive_to_other_desks(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = _on_shared_time(monkeypatch)
    other = OtherDesk(now)
    # six requests a minute (a 180-a-minute budget shared by 30 desks): ~10 s a token
    budget = RequestBudget(6, burst=2, clock=lambda: now.passed)
    broker = MeteredBroker(
        PaperBroker(100_000.0, SYMBOLS), budget, WaitingOnSharedTime(now, other.judge)
    )
    session = make_session(
        store,
        broker=broker,
        symbols=SYMBOLS,
        commit_before_send=True,  # rows commit one by one, as a remote broker's session's
        strategies=[Flipper()],
    )
    assert session.audit.session is not None
    other.session_id = session.audit.session.id
    reports: list[IterationReport] = []
    started_at = now.passed
    result = SessionRunner(session, iterations=2, on_report=reports.append).run()
    waited = now.passed - started_at
    other.close()
    session.audit.db.close()

    assert result.status == "completed", result
    assert waited > 3 * liveness.MIN_WINDOW, f"the cycles waited only {waited:.0f} s"
    dead = other.dead_at(started_at)
    assert not dead, f"another desk found this one dead {dead} s into its cycles"
    assert sum(report.orders_sent for report in reports) > 0, "the desk's orders were held"


def test_a_desk_between_a_read_s_retries_stays_alive_to_other_desks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that keeps failing (the broker's connection refused) is retried with a growing
    back-off; those waits, here 20 + 40 + 40 s, beat too."""
    now = _on_shared_time(monkeypatch)
    other = OtherDesk(now)
    session = make_session(tmp_path / "audit.db", symbols=SYMBOLS, commit_before_send=True)
    assert session.audit.session is not None
    other.session_id = session.audit.session.id
    started_at = now.passed

    def refused() -> None:
        raise ConnectionRefusedError("connection refused")

    policy = CallPolicy(retries=3, backoff=20.0, max_backoff=40.0)
    with beating(session.audit.beat_waiting), pytest.raises(BrokerError, match="4 attempts"):
        with_retries(refused, policy, "reading the account", WaitingOnSharedTime(now, other.judge))
    other.close()
    session.audit.db.close()

    assert now.passed - started_at == 100.0
    dead = other.dead_at(started_at)
    assert not dead, f"another desk found this one dead {dead} s into the retries"
    assert len(other.seen) == 100, "the back-off was not waited in one-second pieces"


def test_a_desk_recorded_died_while_it_waits_at_its_end_stops_with_the_plain_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A heartbeat inside the session's last writes (its final reads wait for the budget too)
    may find the row recorded ``died`` by another desk: the run ends ``failed`` with the plain
    reason, as within a cycle, not with an exception out of the runner."""
    now = SharedTime()
    monkeypatch.setattr(session_rows, "_since_boot", lambda: now.boot + now.passed)
    budget = RequestBudget(6, burst=2, clock=lambda: now.passed)
    broker = MeteredBroker(
        PaperBroker(100_000.0, SYMBOLS), budget, WaitingOnSharedTime(now, lambda: None)
    )
    session = make_session(
        tmp_path / "audit.db",
        broker=broker,
        symbols=SYMBOLS,
        commit_before_send=True,
        strategies=[Flipper()],
    )
    row = session.audit.session
    assert row is not None
    final_rows = session._final_rows

    def taken_over_first() -> None:
        """Another desk records this one ``died`` as it starts its last writes."""
        SessionRow.update(status="died").where(SessionRow.id == row.id).execute()
        final_rows()

    monkeypatch.setattr(session, "_final_rows", taken_over_first)
    result = SessionRunner(session, iterations=1).run()
    session.audit.db.close()

    assert (result.status, result.audit_failed) == ("failed", True), result
    assert result.error is not None and "was recorded died" in result.error
