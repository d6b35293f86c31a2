"""PostgreSQL: the server restarted under a running desk (``pg_ctl restart -m fast``: an
upgrade, a configuration change, a failover's few seconds).

The desk halts at once (its transaction died with the connection) and must write that halt,
so that the account's next start, on any machine, finds it halted until ``risk reset``. It
tried once, at the moment its connection was ended, while the server was still shutting down:
refused, so the account's row stayed ``active``, the session's ``running``, and which of the
two a restart left behind was a race (a desk whose single try came once the server was back
wrote both). Now it keeps trying for ``store.pg.RECONNECT_WITHIN`` seconds, and a server back
within that time gets the halt and the session's end.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli_helpers import start_cli
from tests.pg_cluster import TRADER_PASSWORD, PgCluster, running_cluster
from tui_trader.sandbox.testing import wait_until

DEADLINE = 60.0


@pytest.fixture
def own_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[PgCluster]:
    """A cluster this test may stop and start (the worker's shared one serves other tests)."""
    monkeypatch.setenv("PGPASSWORD", TRADER_PASSWORD)
    with running_cluster() as cluster:
        yield cluster


def test_a_server_restarted_mid_session_keeps_the_desks_halt(
    own_cluster: PgCluster, tmp_path: Path
) -> None:
    """The server stops under a running desk and starts again (``pg_ctl stop -m fast``, then
    ``start``: about a second down). Before: the account's row said ``active`` (its next start
    traded) and the session ``running``. Now: ``halted`` (``session_error``) and ``failed``,
    one line, exit 1."""
    database = own_cluster.new_database()
    url = own_cluster.url(database)
    proc = start_cli(tmp_path, "paper", "--iterations", "0", "--every", "0.05", "--db", url)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    try:
        wait_until(lambda: sum(line.startswith("iter=") for line in lines) >= 3, DEADLINE, "cycles")
        own_cluster.stop()  # the desk's connection ended; the server down for a moment
        own_cluster.start()
        proc.wait(timeout=DEADLINE)
        reader.join(timeout=DEADLINE)
        err = (proc.stderr.read() if proc.stderr else "").strip()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert len(err.splitlines()) == 1 and "lost the audit store" in err, err
    state = "SELECT state, halt_reason FROM risk_state"
    assert own_cluster.rows(database, state) == [("halted", "session_error")], lines[-3:]
    assert own_cluster.rows(database, "SELECT status FROM sessions") == [("failed",)]
