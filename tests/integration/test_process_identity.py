"""Liveness by the kernel on this machine, by a bounded heartbeat elsewhere (``store.liveness``).

A session row records its process for good: pid, start time and boot id. On the same machine
the kernel says whether that very process still runs, and the heartbeat is aged on the boot
clock, so what a wall clock says no longer decides who is dead. A heartbeat from another
machine stamped far in the future keeps its session alive only while it keeps changing.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import age_heartbeat
from tui_trader.core.clock import WallClock
from tui_trader.store import liveness, process_identity
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database, to_db_time
from tui_trader.store.dead_local import dead_left_working, end_dead_local_sessions
from tui_trader.store.fleet import fleet_rows
from tui_trader.store.liveness import MIN_WINDOW, gone_why, is_alive, shown_status
from tui_trader.store.models import SessionRow
from tui_trader.store.pg_open import open_pg
from tui_trader.store.pg_url import parse_db_url
from tui_trader.store.process_identity import own_identity

IDENTITY = ("heartbeat_uptime", "proc_start", "boot_id")
"""The columns a session row names its process and ages its heartbeat with on one machine."""


def _running(db_path: Path, **changes: Any) -> SessionRow:
    """A ``running`` local session row of this very process, with ``changes`` written over it."""
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    if changes:
        SessionRow.update(**changes).where(SessionRow.id == row.id).execute()
    return SessionRow.get_by_id(row.id)


def _wall(seconds: float) -> Any:
    """A wall-clock time ``seconds`` from now, as a row stores it."""
    return to_db_time(datetime.now(UTC) + timedelta(seconds=seconds))


def test_a_session_records_the_process_that_runs_it(db_path: Path) -> None:
    me = own_identity()
    assert me is not None, "this test needs /proc"
    row = _running(db_path)
    assert (row.pid, row.proc_start, row.boot_id) == (me.pid, me.start, me.boot_id)
    assert row.heartbeat_uptime is not None


@pytest.mark.parametrize("wall_age", [3600.0, -3600.0], ids=["an-hour-behind", "an-hour-ahead"])
def test_a_session_of_this_machine_is_judged_without_the_wall_clock(
    db_path: Path, wall_age: float
) -> None:
    """Its process is there and beats on the boot clock: alive, whatever its wall-clock
    heartbeat says (a process whose clock ran an hour behind, or ahead). Before, an hour
    behind was dead, and the next start recorded it ``died`` and stopped it. Once it stops
    beating on the boot clock for longer than its window, it is dead, process there or not."""
    row = _running(db_path, heartbeat_at=_wall(-wall_age))
    assert is_alive(row) and shown_status(row) == "running"
    assert end_dead_local_sessions(SessionRow._meta.database) == []
    assert SessionRow.get_by_id(row.id).status == "running"
    age_heartbeat(row.id, MIN_WINDOW + 1)
    row = SessionRow.get_by_id(row.id)
    assert not is_alive(row) and shown_status(row) == "died"
    assert gone_why(row) is None  # its process is there: only its heartbeat says dead


def test_a_process_id_taken_by_another_program_is_dead_at_once(db_path: Path) -> None:
    """The recorded pid runs, but a process that started at another time: the session's own
    process is gone and its id reused. Dead, though its heartbeat is fresh on both clocks
    (before, an existing pid with a fresh heartbeat was alive)."""
    me = own_identity()
    assert me is not None
    row = _running(db_path, proc_start=me.start - 1)
    assert not is_alive(row)
    assert (
        gone_why(row)
        == f"process {row.pid} is gone from {row.host} (its id is another program's now)"
    )
    [shown] = [r for r in fleet_rows() if r.session_id == row.id]
    assert (shown.state, shown.dead_why) == ("died", gone_why(row))


def test_a_process_of_an_earlier_boot_is_dead_at_once(db_path: Path) -> None:
    """The machine has restarted since the session's process ran: dead, heartbeat or not."""
    row = _running(db_path, boot_id="00000000-0000-0000-0000-000000000000")
    assert not is_alive(row)
    assert gone_why(row) == f"{row.host} has restarted since process {row.pid} ran"


def test_a_process_that_exited_is_dead_at_once(db_path: Path) -> None:
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    row = _running(db_path, pid=int(gone.stdout))
    assert not is_alive(row)
    assert gone_why(row) == f"process {row.pid} is gone from {row.host}"


def test_without_proc_the_heartbeat_and_the_pid_judge(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader without ``/proc`` (another system, a sandbox): the wall-clock heartbeat rule,
    and a gone pid on this host is still dead at once."""
    row = _running(db_path)
    monkeypatch.setattr(process_identity, "PROC", tmp_path / "no-proc")
    assert is_alive(row)
    stale = _running(db_path, heartbeat_at=_wall(-(MIN_WINDOW + 1)))
    assert not is_alive(stale)
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert not is_alive(_running(db_path, pid=int(gone.stdout)))


def test_a_heartbeat_far_in_the_future_keeps_its_session_alive_only_while_it_changes(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another machine whose clock is an hour ahead wrote it. Alive at first sight; seen
    unchanged for longer than the window on this reader's own clock: dead (before, it looked
    alive for the whole hour, whatever became of its session); a new heartbeat: alive again.
    A heartbeat less than the window ahead is an ordinary fresh one."""
    clock = [1000.0]
    monkeypatch.setattr(liveness, "_monotonic", lambda: clock[0])
    row = _running(db_path, host="desk-b", heartbeat_at=_wall(3600))
    assert is_alive(row)
    clock[0] += MIN_WINDOW - 1
    assert is_alive(row)
    clock[0] += 2
    assert not is_alive(row) and shown_status(row) == "died"
    SessionRow.update(heartbeat_at=_wall(3601)).where(SessionRow.id == row.id).execute()
    row = SessionRow.get_by_id(row.id)
    assert is_alive(row)
    near = _running(db_path, host="desk-b", heartbeat_at=_wall(MIN_WINDOW - 5))
    clock[0] += 10 * MIN_WINDOW
    assert is_alive(near)


def _drop_identity_columns(path: Path) -> None:
    """Make the file as the program before process identities wrote it."""
    conn = sqlite3.connect(path)
    for column in IDENTITY:
        conn.execute(f'ALTER TABLE "sessions" DROP COLUMN "{column}"')
    conn.commit()
    conn.close()


def test_a_file_from_before_process_identities_gains_them_and_its_rows_keep_the_old_rule(
    db_path: Path,
) -> None:
    """Opening adds the three columns (the migration's generic step); a row written before
    them names no process, so the pid and the wall-clock heartbeat judge it, as before, and
    ``db verify``'s read-only count of dead sessions reads the old file too."""
    _running(db_path, heartbeat_at=_wall(-600))  # a dead session, left running
    SessionRow._meta.database.close()
    _drop_identity_columns(db_path)
    assert dead_left_working(sqlite3.connect(db_path)) == (1, 0)
    open_database(db_path)
    have = {c.name for c in SessionRow._meta.database.get_columns("sessions")}
    assert set(IDENTITY) <= have
    [old] = SessionRow.select()
    assert (old.proc_start, old.boot_id, old.heartbeat_uptime) == (None, None, None)
    assert not is_alive(old)
    SessionRow.update(heartbeat_at=_wall(0)).execute()
    assert is_alive(SessionRow.get_by_id(old.id))


def test_a_postgresql_store_from_before_process_identities_gains_them(pg_url: str) -> None:
    """The same generic step on PostgreSQL: a store whose ``sessions`` table lacks the three
    columns gets them when a desk opens it, and that desk's session records its process."""
    url = parse_db_url(pg_url)
    open_pg(url).close()
    db = open_pg(url, create=False)
    for column in IDENTITY:
        db.execute_sql(f'ALTER TABLE "sessions" DROP COLUMN "{column}"')
    db.close()
    db = open_pg(url)
    try:
        assert set(IDENTITY) <= {c.name for c in db.get_columns("sessions")}
        row = AuditLog(db, WallClock()).start_session("local", "paper", None, "t", ("SPY",), {})
        row = SessionRow.get_by_id(row.id)
        me = own_identity()
        assert me is not None
        assert (row.proc_start, row.boot_id) == (me.start, me.boot_id)
        assert is_alive(row)
    finally:
        db.close()


def test_a_process_proc_hides_is_judged_on_the_boot_clock_too(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/proc`` mounted with ``hidepid`` hides another user's process from this reader (an
    operator's account on the machine, with a PostgreSQL store both use): the kernel cannot say
    if it is the very process.
    Its heartbeat, an hour behind on the wall clock (the reader's clock stepped ahead), is
    fresh on the boot clock both read: alive. Before, it was judged on the wall clock: dead,
    and a start on the database would have recorded a live session ``died``. Stale on the boot
    clock, it is dead."""
    row = _running(db_path, heartbeat_at=_wall(-3600.0))
    stat = process_identity._stat
    monkeypatch.setattr(
        process_identity, "_stat", lambda pid: None if pid == row.pid else stat(pid)
    )
    assert process_identity.look_up(row.pid, row.proc_start, row.boot_id).value == "unknown"
    assert is_alive(row) and shown_status(row) == "running"
    assert liveness.heartbeat_age(row, datetime.now(UTC)) < MIN_WINDOW
    age_heartbeat(row.id, MIN_WINDOW + 1)
    assert not is_alive(SessionRow.get_by_id(row.id))
