"""``live monitor`` on a PostgreSQL store whose server restarts: it says the store is unreachable
in plain words, keeps trying, and follows the session again once the server is back.

Before, the first read after the server went away ended the monitor for good: "monitor
stopped: OperationalError: consuming input failed: server closed the connection unexpectedly
...", the driver's class name on screen, and the session, still running elsewhere, was not
followed again until the monitor was restarted by hand. The server here is a throwaway cluster
of the test's own, shut down (``pg_ctl stop -m fast``, what a restart does first) and started
again on its port; the session's rows are written by the test, as the other process would.
The monitor's kill switch works again too: its connection, ended by the restart, is replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.pg_cluster import TRADER_PASSWORD, PgCluster, running_cluster
from tui_trader.core.clock import WallClock
from tui_trader.core.domain import Account, IterationReport, TradingState
from tui_trader.sandbox.testing import wait_until
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import HaltRequest
from tui_trader.store.pg import reconnect
from tui_trader.store.pg_url import parse_db_url
from tui_trader.tui.monitor import DbFollower
from tui_trader.tui.monitor_handle import MonitorHandle

DEADLINE = 60.0


@pytest.fixture
def own_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[PgCluster]:
    """A cluster this test may stop and start (the worker's shared one serves other tests)."""
    monkeypatch.setenv("PGPASSWORD", TRADER_PASSWORD)
    with running_cluster() as cluster:
        yield cluster


def _snapshot(audit: AuditLog, iteration: int) -> None:
    """The followed session's account after cycle ``iteration``."""
    account = Account(100_000.0 + iteration, 100_000.0 + iteration, 100_000.0)
    audit.snapshot(iteration, account, {}, 0.0, 0.0, TradingState.ACTIVE, datetime.now(UTC))


def test_the_monitor_follows_again_after_the_server_restarts(own_cluster: PgCluster) -> None:
    url = parse_db_url(own_cluster.url(own_cluster.new_database()))
    audit = AuditLog(open_database(url), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    _snapshot(audit, 1)
    follower = DbFollower(url, row.key)
    follower.open()
    handle = MonitorHandle(follower, poll_seconds=0.05)
    reports: list[IterationReport] = []
    notices: list[tuple[str, bool]] = []
    ended: list[object] = []

    def follow() -> None:
        try:
            ended.append(handle.run(reports.append, lambda *notice: notices.append(notice)))
        except Exception as exc:  # what ended the monitor for good
            ended.append(exc)

    worker = threading.Thread(target=follow, daemon=True)
    worker.start()
    try:
        wait_until(lambda: any(r.iteration == 1 for r in reports), DEADLINE, "the first report")
        assert not ended, ended
        own_cluster.stop()
        wait_until(lambda: notices or ended, DEADLINE, "the monitor saying the store is gone")
        assert not ended, ended
        text, trouble = notices[0]
        assert trouble and text.startswith(f"the audit store {url} is unreachable ("), text
        assert "Error" not in text  # no exception class on screen
        assert worker.is_alive() and not ended, ended  # it keeps trying
        own_cluster.start()
        assert reconnect(audit.db)  # the session's own connection, after the restart
        _snapshot(audit, 2)
        wait_until(lambda: any(r.iteration == 2 for r in reports), DEADLINE, "following again")
        wait_until(lambda: len(notices) == 2, DEADLINE, "the monitor saying it is back")
        assert notices[1] == (f"the audit store {url} answers again: following the session", False)
        # the kill switch, from a thread whose connection the restart ended, reaches it too
        follower.request_halt(flatten=False, who="test")
        assert HaltRequest.select().where(HaltRequest.requested_by == "test").count() == 1
    finally:
        handle.stop()
        worker.join(timeout=DEADLINE)
    assert [r.status for r in ended] == ["stopped"]  # type: ignore[attr-defined]
