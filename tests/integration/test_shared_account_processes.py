"""Two real ``tui-trader live paper`` processes on one sandbox account and one database.

What issue 12 found broken: the day's order limit counted per process, a halt in one session
overwritten by the other, and ``risk reset`` undone by the running session. Here both processes
run at once; the test waits on the database (with deadlines), never on sleeps. It runs on both
engines: one SQLite file, and one PostgreSQL database (as desks on several machines would share).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.account_processes import (
    PROCESSES_RUN_WITHIN_S,
    Db,
    cycles_pass,
    orders_per_trading_day,
    query,
    start_live_paper,
    stop_all,
    wait_for,
)
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle

pytestmark = pytest.mark.timeout(PROCESSES_RUN_WITHIN_S)


def _events(db: Db, session_id: int, kind: str) -> int:
    """How many risk events of ``kind`` a session wrote."""
    return query(
        db,
        "SELECT count(*) FROM live_risk_events WHERE session_id = ? AND event_type = ?",
        session_id,
        kind,
    )[0][0]


def test_two_processes_share_one_risk_state(
    pumped: SandboxHandle, tmp_path: Path, shared_db: Db
) -> None:
    """Limit 2 orders a day in each: 2 reach the broker in all. A halt requested for B stops A
    within a cycle and risk_state stays halted while both run; ``risk reset --yes`` is taken by
    both running sessions and stays ACTIVE."""
    db = shared_db
    a = start_live_paper(tmp_path, pumped, db, "a", max_orders=2)
    b = start_live_paper(tmp_path, pumped, db, "b", max_orders=2)
    procs = [a, b]
    try:
        wait_for(
            "both sessions to start",
            lambda: (
                len(query(db, "SELECT id FROM sessions")) == 2
                and query(db, "SELECT count(*) FROM live_account_snapshots")[0][0] >= 4
            ),
            procs,
        )
        (id_a, account), (id_b, _) = query(db, "SELECT id, account_key FROM sessions ORDER BY id")
        wait_for(
            "the day's order limit to be reached",
            lambda: query(db, "SELECT orders_today FROM risk_state")[0][0] >= 2,
            procs,
        )
        for sid in (id_a, id_b):
            wait_for("a few more cycles", cycles_pass(db, sid, 3), procs)
        at_broker = pumped.admin.state()["orders"]["total"]  # first: a row precedes its send
        per_day = orders_per_trading_day(db)
        assert 2 in per_day and max(per_day) == 2, f"orders per trading session: {per_day}"
        assert at_broker <= sum(per_day), "every order at the broker is in the audit trail"

        query(
            db,
            "INSERT INTO halt_requests (session_id, timestamp, requested_by, reason, flatten)"
            " VALUES (?, ?, 'test', 'halt B', ?)",
            id_b,
            datetime.now(UTC).replace(tzinfo=None).isoformat(" "),
            False,
        )
        wait_for("A to take B's halt", lambda: _events(db, id_a, "halt_adopted") == 1, procs)
        for sid in (id_a, id_b):
            wait_for("a few more cycles", cycles_pass(db, sid, 3), procs)
        assert query(db, "SELECT state, halt_reason FROM risk_state") == [("halted", "manual_kill")]

        command = ["risk", "reset", "--yes", "--db", str(db), "--account", account]
        reset = subprocess.run(
            [sys.executable, "-m", "tui_trader", *command],
            capture_output=True,
            text=True,
            env=cli_env(tmp_path),
            cwd=tmp_path,
            timeout=60,
        )
        assert reset.returncode == 0, reset.stdout + reset.stderr
        for sid in (id_a, id_b):
            wait_for("the reset to be taken", lambda s=sid: _events(db, s, "reset_adopted"), procs)
            wait_for("a few more cycles", cycles_pass(db, sid, 3), procs)
        assert query(db, "SELECT state FROM risk_state") == [("active",)]
    finally:
        stop_all(procs)
    assert a.returncode == 0 and b.returncode == 0
    orders = query(db, "SELECT count(*) FROM live_orders")[0][0]
    assert pumped.admin.state()["orders"]["total"] == orders, "each order at the broker"
    assert query(db, "SELECT state FROM risk_state") == [("active",)]
