"""A desk blocked in one slow broker request still beats, until the request's deadline.

A single HTTP request blocks the session's thread in one call: no wait inside it can beat. The
request's watchdog beats for it (``brokers.request_deadline``), so another desk does not find
this live desk dead and take its symbols over; past the deadline it stops, so a desk truly hung
goes stale as it must. Here the watchdog runs on the test's clock, ticked by the test on a
thread of its own (with its own store connection, as in a desk); the heartbeat's and
liveness's clocks run on the same time (``test_beat_inside_a_cycle``), moved only by the test:
nothing sleeps. The slow request is a real alpaca-py ``get_account`` whose
answer the sandbox trickles.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_session
from tests.integration.test_beat_inside_a_cycle import OtherDesk, SharedTime, _on_shared_time
from tui_trader.brokers.request_deadline import DeadlineExceeded, Watchdog, watch, with_deadline
from tui_trader.core.waiting import beating
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle, wait_until
from tui_trader.store import liveness
from tui_trader.store.pg_url import PgUrl

DEADLINE = 50.0
"""The request's deadline on the test's clock: longer than the 30-s heartbeat window."""
STEP = 5.0
"""Seconds of the test's time between two ticks of the watchdog."""


class Desk:
    """A session whose thread makes one request, under a watchdog the test ticks."""

    def __init__(self, db: Path | PgUrl, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now: SharedTime = _on_shared_time(monkeypatch)
        self.dog = Watchdog(clock=lambda: self.now.passed, threaded=False)
        self.ticker = ThreadPoolExecutor(1, thread_name_prefix="watchdog")
        """The watchdog's own thread (and store connection), as in a desk."""
        self.session: TradingSession = make_session(db, commit_before_send=True)
        assert self.session.audit.session is not None
        self.other = OtherDesk(self.now)
        self.other.session_id = self.session.audit.session.id
        self.outcome: list[Any] = []
        self.thread: threading.Thread | None = None

    def start(self, request: Callable[[], Any]) -> None:
        """Run ``request`` on the session's thread, its heartbeat installed as the runner
        installs it; return once the request is in flight."""
        audit = self.session.audit

        def run() -> None:
            with beating(audit.beat_waiting, audit.beat_aside):
                try:
                    self.outcome.append(request())
                except Exception as exc:
                    self.outcome.append(exc)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        wait_until(self.dog.in_flight, what="the request in flight")

    def pass_time(self, until: float) -> None:
        """Move the test's time on in steps, the watchdog ticking and the other desk looking
        at this one after each."""
        while self.now.passed < until:
            self.now.passed += STEP
            self.ticker.submit(self.dog.tick).result()
            self.other.judge()

    def close(self) -> None:
        """The session's thread ended, connections closed."""
        if self.thread is not None:
            self.thread.join(30)
        self.ticker.shutdown()
        self.other.close()
        self.session.audit.db.close()


@pytest.fixture
def desk(store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    """A desk on each store (a SQLite file, a PostgreSQL database), on the test's time."""
    made = Desk(store, monkeypatch)
    yield made
    made.close()


def _trickled_account(sandbox: SandboxHandle, dog: Watchdog) -> Callable[[], Any]:
    """alpaca-py's ``get_account`` on the sandbox, its answer trickled, under ``dog``'s
    deadline of ``DEADLINE`` (each socket read's timeout real and generous)."""
    from alpaca.trading.client import TradingClient

    client = TradingClient(
        sandbox.key_id, sandbox.secret, paper=True, url_override=sandbox.base_url
    )
    client._retry = 0
    watch(client._session)
    client._session.request = with_deadline(
        functools.partial(client._session.request, timeout=10.0), DEADLINE, dog
    )
    sandbox.admin.set_faults(trickle=0.05)  # ~1,000 bytes: about a minute of real time
    return client.get_account


def test_a_desk_blocked_in_a_slow_request_stays_alive_to_other_desks(
    desk: Desk, sandbox: SandboxHandle
) -> None:
    desk.start(_trickled_account(sandbox, desk.dog))
    desk.pass_time(DEADLINE - STEP)  # 45 s in one request: past the 30-s window

    assert not desk.outcome, "the trickled answer ended early"
    dead = desk.other.dead_at(0.0)
    assert not dead, f"another desk found this one dead {dead} s into its request"

    desk.pass_time(DEADLINE)  # the deadline: cut, a transient failure
    assert desk.thread is not None
    desk.thread.join(30)
    assert desk.outcome and isinstance(desk.outcome[0], DeadlineExceeded), desk.outcome


def test_a_desk_hung_past_its_request_s_deadline_stops_beating(desk: Desk) -> None:
    """A request the cut cannot end (no socket to shut: hung before it has one) keeps the
    thread blocked; the watchdog beats until the deadline, then no more: the desk goes
    stale one window later, as a hung desk must."""
    release = threading.Event()
    desk.start(with_deadline(lambda: release.wait(60), DEADLINE, desk.dog))
    desk.pass_time(DEADLINE - STEP)
    assert not desk.other.dead_at(0.0), "a desk in a request younger than its deadline died"

    desk.pass_time(DEADLINE + liveness.MIN_WINDOW + STEP)
    release.set()

    dead = desk.other.dead_at(0.0)
    assert dead, "a desk hung past its request's deadline kept looking alive"
    assert min(dead) > DEADLINE, dead


def test_no_heartbeat_is_lent_inside_an_open_transaction(desk: Desk) -> None:
    """A heartbeat written from aside during the session's open transaction would be seen
    only at its commit (and would wait on the transaction's lock): none is lent there."""
    audit = desk.session.audit
    assert audit.beat_aside() is not None
    with audit.db.atomic():
        assert audit.beat_aside() is None
