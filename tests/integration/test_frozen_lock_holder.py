"""A desk frozen inside a SQLite transaction is named when it blocks ``fleet halt``.

A desk stopped (SIGSTOP, Ctrl+Z) inside a transaction keeps the file's write lock; ``fleet
halt`` gave up after the busy timeout saying the file 'stayed locked by another program':
no word that the holder is the desk's own session, nor how to free it. Its row says which:
still ``running``, its process there (on this machine: stopped), its heartbeat stale. Of
another host's session nothing can be seen: it is named with its host and pid, not judged.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.lock_helpers import paper_under_a_held_lock
from tui_trader.cli import main
from tui_trader.core.clock import WallClock
from tui_trader.store import db as store_db
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database, to_db_time
from tui_trader.store.models import SessionRow, database
from tui_trader.store.process_identity import PROC, boot_id, uptime

OTHER_HOST = "desk-b.example"


def _start_ticks(pid: int) -> int:
    """Process ``pid``'s start time in clock ticks after boot (``/proc/PID/stat`` field 22)."""
    text = (PROC / str(pid) / "stat").read_text()
    return int(text[text.rindex(")") + 2 :].split()[19])


def test_fleet_halt_blocked_by_a_frozen_desk_names_it_and_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "desk.db"
    audit = AuditLog(open_database(path), WallClock())
    keys = [audit.start_session("local", "paper", None, "t", ("SPY",), {}).key for _ in "abc"]
    frozen = subprocess.Popen(["sleep", "60"])
    try:
        frozen.send_signal(signal.SIGSTOP)
        stale = to_db_time(datetime.now(UTC) - timedelta(minutes=5))
        up, boot = uptime(), boot_id()
        assert up is not None and boot
        SessionRow.update(  # this machine's desk, stopped 300 s ago
            pid=frozen.pid,
            proc_start=_start_ticks(frozen.pid),
            boot_id=boot,
            heartbeat_at=stale,
            heartbeat_uptime=up - 300,
            heartbeat_window=30.0,
        ).where(SessionRow.key == keys[0]).execute()
        SessionRow.update(  # another machine's desk, silent for 300 s
            host=OTHER_HOST, pid=4242, heartbeat_at=stale, heartbeat_uptime=None
        ).where(SessionRow.key == keys[1]).execute()
        # keys[2]: this test's own process, beating: working, not frozen
        database.close()
        monkeypatch.setitem(store_db._PRAGMAS, "busy_timeout", 300)  # 10 s in real use
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the frozen desk's open transaction
        try:
            code = main(["fleet", "halt", "--all", "--yes", "--db", str(path)])
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        database.obj.close()
    finally:
        frozen.kill()
        frozen.wait(10)
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"stayed locked for more than 0.3 s: nothing was changed; session {keys[0]}" in err
    pid = frozen.pid
    err = re.sub(r"heartbeat for 3\d\d s", "heartbeat for 300 s", err)  # 300 s and the run
    assert (
        f"session {keys[0]} (pid {pid} on this machine) has not written its heartbeat for 300 s "
        f"and its process is stopped: it holds the file's lock; resume it (kill -CONT {pid}) "
        f"or end it (kill -9 {pid}), then run this again"
    ) in err, err
    assert (
        f"session {keys[1]} of host {OTHER_HOST} (pid 4242) has not written its heartbeat for "
        f"300 s; this machine cannot see its process: if it holds the lock, on {OTHER_HOST} "
        "resume it (kill -CONT 4242) or end it (kill -9 4242)"
    ) in err, err
    assert keys[2] not in err and "another program" not in err


def test_a_session_stopped_by_a_frozen_desks_lock_names_it_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session that gives up on the locked file says the same: which desk and what to do
    (before: 'stayed locked by another program'); its own beating row is not named."""
    path = tmp_path / "desk.db"
    audit = AuditLog(open_database(path), WallClock())
    key = audit.start_session("local", "paper", None, "t", ("SPY",), {}).key
    frozen = subprocess.Popen(["sleep", "60"])
    frozen.send_signal(signal.SIGSTOP)
    up, boot = uptime(), boot_id()
    assert up is not None and boot
    SessionRow.update(
        pid=frozen.pid,
        proc_start=_start_ticks(frozen.pid),
        boot_id=boot,
        heartbeat_at=to_db_time(datetime.now(UTC) - timedelta(minutes=5)),
        heartbeat_uptime=up - 300,
        heartbeat_window=30.0,
    ).where(SessionRow.key == key).execute()
    database.close()

    def frozen_row(conn: sqlite3.Connection) -> None:
        """The frozen desk's row as it was (the session's start found it stale and recorded
        it died; a desk frozen later keeps 'running')."""
        conn.execute("UPDATE sessions SET status = 'running' WHERE key = ?", (key,))

    try:
        code, taken = paper_under_a_held_lock(path, monkeypatch, frozen_row)
    finally:
        frozen.kill()
        frozen.wait(10)
    err = capsys.readouterr().err
    database.obj.close()
    assert taken and code == 1
    err = re.sub(r"heartbeat for 3\d\d s", "heartbeat for 300 s", err)
    assert err.startswith(
        f"tui-trader: error: the audit database {path} stayed locked for more than 0.3 s: "
        f"trading stopped, no order sent without its row; session {key} (pid {frozen.pid} on "
        "this machine) has not written its heartbeat for 300 s and its process is stopped"
    ), err
    assert err.count("session ") == 1, err  # not the session that reports it
