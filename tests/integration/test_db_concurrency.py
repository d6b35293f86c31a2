"""Any number of sessions and report commands on one database all finish (issue 12, section 4).

Two ``paper`` sessions on one file used to die with "database is locked" 7 times in 10: a cycle's
deferred transaction read first and wrote later, and in WAL mode SQLite refuses to upgrade such
a transaction once another process has committed, without waiting. Real processes here, as a
user would start them.
"""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.integration.cli_helpers import start_cli
from tui_trader.store import db as store_db

SESSIONS = 4
ITERATIONS = 40


def _wait_for_a_session(db: Path, deadline: float) -> None:
    """Until a session row is committed (reports need one), or fail at the deadline."""
    while time.monotonic() < deadline:
        if db.exists():
            try:
                conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                try:
                    if conn.execute("SELECT count(*) FROM sessions").fetchone()[0]:
                        return
                finally:
                    conn.close()
            except sqlite3.Error:
                pass  # not created yet
        time.sleep(0.05)
    raise AssertionError("no session started in time")


def test_four_sessions_and_reports_on_one_database_all_finish_with_every_row(
    tmp_path: Path,
) -> None:
    db = tmp_path / "shared.db"
    command = ("paper", "--iterations", str(ITERATIONS), "--interval", "5m", "--period", "5d")
    sessions = [
        start_cli(tmp_path, *command, "--seed", str(seed), "--db", str(db))
        for seed in range(1, SESSIONS + 1)
    ]
    procs: list[subprocess.Popen[str]] = list(sessions)
    try:
        _wait_for_a_session(db, time.monotonic() + 60)
        reports = [
            start_cli(tmp_path, *command, "--db", str(db))
            for command in (
                ("history", "--session", "all"),
                ("pnl", "--session", "all"),
                ("status",),
            )
        ]
        procs += reports
        results = [(p.args, *p.communicate(timeout=120), p.returncode) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for args, _out, err, code in results:
        assert code == 0, f"{args[3:5]} exit {code}: {err}"
        assert "locked" not in err
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT s.status, s.iterations, count(a.id) FROM sessions s "
            "LEFT JOIN live_account_snapshots a ON a.session_id = s.id GROUP BY s.id"
        ).fetchall()
        open_orders = conn.execute(
            "SELECT count(*) FROM live_orders WHERE status IN ('pending_new', 'unknown')"
        ).fetchone()[0]
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    assert rows == [("completed", ITERATIONS, ITERATIONS)] * SESSIONS
    assert open_orders == 0
    assert integrity == "ok"


def test_a_new_file_locked_by_another_starting_process_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions started together on a new database: while one holds the file's lock (turning
    its journal to WAL), the others wait for it. They used to stop at once with "database is
    locked" (SQLite does not wait out the busy timeout for that switch): a fleet's three
    sessions started together failed about one start in seven."""
    path = tmp_path / "new.db"
    holder = sqlite3.connect(path, isolation_level=None)  # another process, creating the file
    holder.execute("BEGIN IMMEDIATE")
    refused = threading.Event()
    connect = store_db.AuditDatabase.connect

    def connect_and_say(self, *args, **kwargs):
        try:
            return connect(self, *args, **kwargs)
        except Exception:
            refused.set()
            raise

    monkeypatch.setattr(store_db.AuditDatabase, "connect", connect_and_say)
    result: dict[str, object] = {}

    def start() -> None:
        try:
            result["db"] = store_db.open_database(path)
        except store_db.StoreError as exc:
            result["error"] = str(exc)

    opener = threading.Thread(target=start)
    opener.start()
    assert refused.wait(10), "the file's lock never stood in the way"
    holder.execute("ROLLBACK")
    holder.close()
    opener.join(20)
    assert "error" not in result, result["error"]
    result["db"].close()  # type: ignore[attr-defined]
