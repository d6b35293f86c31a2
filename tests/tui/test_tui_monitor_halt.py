"""``live monitor``'s kill switch never waits for the store: ctrl+k says at once, on screen,
HALT REQUESTED and whether the request is written yet; it is written in the background, tried
again until the store answers, and a second ctrl+k queues nothing more.

Before, the halt row was written on the UI thread: with the PostgreSQL server down the screen
said "KILL SWITCH FAILED" and the halt was lost (nothing tried again); with a server that takes
connections and never answers, the whole screen froze for the store's deadline (twice 5 s)
before saying so. The servers here are real: a throwaway cluster stopped and started again,
and a door in front of it that takes connections and says nothing (``tests.store_door``).
The timings are taken from the key reaching the app to the text in the desk bar, waiting on
that condition (never sleeping for a time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from textual import events
from tui_helpers import asking, wait_for

from tests.pg_cluster import TRADER_PASSWORD, PgCluster, running_cluster
from tests.store_door import store_door
from tui_trader.core.clock import WallClock
from tui_trader.core.domain import Account, TradingState
from tui_trader.store import own_connection, pg
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.pg_url import parse_db_url
from tui_trader.tui import monitor_halt, monitor_handle
from tui_trader.tui.app import make_app
from tui_trader.tui.monitor import DbFollower
from tui_trader.tui.monitor_handle import MonitorHandle
from tui_trader.tui.widgets.deskbar import DeskBar

ON_SCREEN_WITHIN = 0.5
"""ctrl+k to its words on screen, in seconds: the promise is 0.1 s (7-25 ms measured here,
the benchmark holds the 0.1 s target); the slack is for a loaded test machine, far below the
store deadlines the screen used to wait for (10 s on a silent server)."""
WRITTEN = "HALT REQUESTED  by you, written: the session halts at its next cycle"
NOT_YET = "HALT REQUESTED  by you, NOT written yet: the store is unreachable, retrying"
SHORT_CONNECT_TIMEOUT = 2
"""libpq's shortest connect deadline (a smaller one is taken as 2 s)."""
ROW = "SELECT session_id, requested_by, reason, flatten, handled_at FROM halt_requests"


def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trader's password in the environment; the monitor and the halt writer retry
    quickly."""
    monkeypatch.setenv("PGPASSWORD", TRADER_PASSWORD)
    monkeypatch.setattr(monitor_handle, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(monitor_halt, "RETRY_SECONDS", 0.05)


@pytest.fixture
def own_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[PgCluster]:
    """A cluster this test may stop and start (the worker's shared one serves other tests)."""
    _quick_retries(monkeypatch)
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def cluster(pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[PgCluster]:
    """The worker's shared cluster, for a test that never stops its server (a cluster of its
    own cost about a second to create and remove); the databases the test made, and the
    ``watcher`` role, are dropped after it."""
    _quick_retries(monkeypatch)
    made: list[str] = []
    new_database = pg_cluster.new_database

    def tracked(prefix: str = "t") -> str:
        made.append(new_database(prefix))
        return made[-1]

    monkeypatch.setattr(pg_cluster, "new_database", tracked)
    yield pg_cluster
    for name in made:
        pg_cluster.drop_database(name)
    pg_cluster.admin("DROP ROLE IF EXISTS watcher")


def _followed(url: object) -> int:
    """A running session with one cycle recorded, as the other process writes it; its id."""
    audit = AuditLog(open_database(url), WallClock())  # type: ignore[arg-type]
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    account = Account(100_000.0, 100_000.0, 100_000.0)
    audit.snapshot(1, account, {}, 0.0, 0.0, TradingState.ACTIVE, datetime.now(UTC))
    audit.db.close()
    return row.id


def bars(app) -> str:
    """Every desk bar on the screens open (a question's screen over the dashboard too)."""
    return " | ".join(str(bar.render()) for s in app.screen_stack for bar in s.query(DeskBar))


def said(app) -> str:
    """Every notification shown so far."""
    return " | ".join(f"{n.title}: {n.message}" for n in app._notifications)


async def _ctrl_k_timed(app, shown: Callable[[], bool]) -> float:
    """Seconds from ctrl+k reaching the app to ``shown`` holding (checked every loop turn)."""
    key = events.Key("ctrl+k", None)
    key.set_sender(app)
    start = time.perf_counter()
    app._driver.send_message(key)
    while not shown():
        if time.perf_counter() - start > 60:
            raise AssertionError(f"ctrl+k: nothing on screen; the bar says {bars(app)!r}")
        await asyncio.sleep(0.001)
    return time.perf_counter() - start


async def test_ctrl_k_with_the_store_up_is_on_screen_at_once_and_written(
    cluster: PgCluster,
) -> None:
    """The store answers: HALT REQUESTED at once, then written; the row is the one a monitor
    always wrote (by ``monitor``, ``ctrl+k in the monitor``, no flatten, not yet handled)."""
    name = cluster.new_database()
    url = parse_db_url(cluster.url(name))
    session = _followed(url)
    app = make_app(url, monitor=MonitorHandle(DbFollower(url, None), poll_seconds=0.05))
    async with app.run_test(size=(200, 36), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first followed report")
        took = await _ctrl_k_timed(app, lambda: "HALT REQUESTED" in bars(app))
        await wait_for(pilot, lambda: WRITTEN in bars(app), f"written: {bars(app)} {said(app)}")
        assert cluster.rows(name, ROW) == [
            (session, "monitor", "ctrl+k in the monitor", False, None)
        ]
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        app.exit()
    print(f"ctrl+k on screen, store up: {took * 1000:.1f} ms")
    assert took < ON_SCREEN_WITHIN, f"ctrl+k took {took * 1000:.0f} ms to show"


async def test_ctrl_k_with_the_server_down_says_so_at_once_and_writes_once_it_is_back(
    own_cluster: PgCluster,
) -> None:
    """The server is stopped: ctrl+k says at once that the halt is requested and not written
    yet, the flatten answered yes queues behind it, a second ctrl+k queues nothing more, and
    once the server is back the two rows a monitor always wrote are written, in order, and
    the bar says so."""
    name = own_cluster.new_database()
    url = parse_db_url(own_cluster.url(name))
    session = _followed(url)
    app = make_app(url, monitor=MonitorHandle(DbFollower(url, None), poll_seconds=0.05))
    async with app.run_test(size=(200, 36), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first followed report")
        own_cluster.stop()
        await wait_for(pilot, lambda: app.desk.unreachable, "the monitor seeing the store gone")
        took = await _ctrl_k_timed(app, lambda: NOT_YET in bars(app))
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        assert NOT_YET in bars(app)  # on the question's screen too
        yes = app.screen.query_one("#yes")
        await wait_for(pilot, lambda: yes.region.area > 0, "the yes button laid out")
        await pilot.click("#yes")  # flatten too: queued behind the halt
        # the bar said NOT written before the answer too: wait for the question to go, or a
        # loaded run's ctrl+k below reached the question still up (a loaded full run failed)
        await wait_for(pilot, lambda: not asking(app), "the question answered")
        await wait_for(pilot, lambda: "HALT REQUESTED  by you, NOT" in bars(app), "not yet")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: "already requested" in said(app), "nothing more queued")
        assert not asking(app)  # no second question either
        own_cluster.start()
        await wait_for(pilot, lambda: WRITTEN in bars(app), f"written: {bars(app)} {said(app)}")
        assert own_cluster.rows(name, ROW + " ORDER BY id") == [
            (session, "monitor", "ctrl+k in the monitor", False, None),
            (session, "monitor", "flatten requested from the monitor", True, None),
        ]
        app.exit()
    print(f"ctrl+k on screen, store down: {took * 1000:.1f} ms")
    assert took < ON_SCREEN_WITHIN, f"ctrl+k took {took * 1000:.0f} ms to show"


async def test_ctrl_k_on_a_server_that_never_answers_does_not_freeze_the_screen(
    cluster: PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's address takes connections and never answers: ctrl+k is on screen at once,
    each try ends by the store's connect deadline and is said, and the request is written
    once the server answers again. The deadline is libpq's shortest, 2 s, not the store's 5:
    the test waited for it twice over, a try and the follower's."""
    for module in (pg, own_connection):
        monkeypatch.setattr(module, "CONNECT_TIMEOUT", SHORT_CONNECT_TIMEOUT)
    name = cluster.new_database()
    with store_door(cluster.port) as door:
        url = parse_db_url(cluster.url(name).replace(f":{cluster.port}/", f":{door.port}/"))
        session = _followed(url)
        handle = MonitorHandle(DbFollower(url, None), poll_seconds=0.05)
        app = make_app(url, monitor=handle)
        async with app.run_test(size=(200, 36), notifications=True) as pilot:
            await wait_for(pilot, lambda: app.desk.latest is not None, "the first report")
            door.go_silent()
            took = await _ctrl_k_timed(app, lambda: "HALT REQUESTED" in bars(app))
            await wait_for(pilot, lambda: asking(app), "the flatten question")
            await wait_for(pilot, lambda: NOT_YET in bars(app), "a try that failed")
            assert "unreachable" in said(app)  # said once: the first failure's words
            # the first try may fail on the connection the door broke as it went silent
            # ("consuming input failed"); a later one ends by the connect deadline

            def trouble() -> str:
                status = handle.halts.status
                return status.trouble if status is not None else ""

            await wait_for(
                pilot,
                lambda: "connection timeout expired" in trouble(),
                f"a try ended by its deadline: {trouble()}",
                tries=600,
            )
            assert cluster.rows(name, ROW) == []
            door.open()
            await wait_for(pilot, lambda: WRITTEN in bars(app), f"written: {bars(app)} {said(app)}")
            assert cluster.rows(name, ROW) == [
                (session, "monitor", "ctrl+k in the monitor", False, None)
            ]
            app.exit()
    print(f"ctrl+k on screen, store silent: {took * 1000:.1f} ms")
    assert took < ON_SCREEN_WITHIN, f"ctrl+k took {took * 1000:.0f} ms to show"


async def test_ctrl_k_refused_by_the_store_says_so_and_can_be_pressed_again(
    cluster: PgCluster,
) -> None:
    """The monitor runs under a role that may only read (a watcher's): the row is refused for
    good, not "unreachable": the bar says HALT NOT WRITTEN, a notice gives the server's reason
    and says to stop the session where it runs, nothing is retried, and ctrl+k tries again."""
    name = cluster.new_database()
    _followed(parse_db_url(cluster.url(name)))
    cluster.admin("CREATE ROLE watcher LOGIN PASSWORD 'watcher-pw'")
    cluster.admin("GRANT SELECT ON ALL TABLES IN SCHEMA public TO watcher", name)
    url = parse_db_url(cluster.url(name).replace("trader@", "watcher:watcher-pw@"))
    app = make_app(url, monitor=MonitorHandle(DbFollower(url, None), poll_seconds=0.05))
    refused = "HALT NOT WRITTEN  the store refused your request: stop the session where it runs"
    async with app.run_test(size=(200, 36), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.desk.latest is not None, "the first followed report")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: refused in bars(app), "the refusal on screen")
        assert "KILL SWITCH FAILED" in said(app) and "permission denied" in said(app)
        await wait_for(pilot, lambda: asking(app), "the flatten question")
        await pilot.press("escape")
        await pilot.press("ctrl+k")  # taken again: nothing waits
        await wait_for(pilot, lambda: said(app).count("KILL SWITCH FAILED") == 2, "a new try")
        assert "already requested" not in said(app)
        assert cluster.rows(name, ROW) == []
        app.exit()
