"""A session's process id, hand-edited, is never signalled and never shown as a process.

Liveness asks the kernel after a session's process with ``os.kill(pid, 0)``. A pid of 0 or
below names a process group there (-1: every process the user may signal), and one beyond
``pid_t`` made ``os.kill`` raise ``OverflowError``: ``fleet`` and ``status`` ended with a crash
line on a pid of 10**15. The fleet, ``status`` and the monitor showed a negative pid as if it
were a process. Now such a pid is no process: the row is judged by its heartbeat, the pid
shows as "-" (``null`` in JSON) or "?", with one warning naming the row and column.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import age_heartbeat
from tests.integration.cli_helpers import run_cli
from tui_trader.core.clock import WallClock
from tui_trader.store import liveness
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import SessionRow
from tui_trader.store.stored_numbers import PID_MAX, take_notes

PIDS = {"minus-one": -1, "zero": 0, "group": -4242, "beyond-pid_t": 10**15}
"""What a hand edit may leave in ``sessions.pid``: none of them is a process."""


def _running(db_path: Path, pid: int, beat_age: float = 0.0) -> SessionRow:
    """A ``running`` session row of this machine, its pid edited to ``pid``, its heartbeat
    ``beat_age`` seconds old."""
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    age_heartbeat(row.id, beat_age)
    SessionRow.update(pid=pid).where(SessionRow.id == row.id).execute()
    return SessionRow.get_by_id(row.id)


@pytest.mark.parametrize("pid", PIDS.values(), ids=list(PIDS))
def test_liveness_never_signals_a_stored_pid_that_is_no_process(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, pid: int
) -> None:
    """Every liveness question about the row (alive? how old? why gone?) answers without
    calling ``os.kill`` on the edited pid; on main, 10**15 reached it (``OverflowError``)."""
    signalled: list[int] = []

    def kill(target: int, signal: int) -> None:
        """Record the pid asked after; no such process."""
        signalled.append(target)
        raise ProcessLookupError

    monkeypatch.setattr(os, "kill", kill)
    for age in (0.0, 600.0):
        row = _running(db_path, pid, beat_age=age)
        assert row.host == liveness.this_host()
        assert liveness.is_alive(row) is (age == 0.0)  # judged by its heartbeat
        liveness.shown_status(row)
        liveness.gone_why(row)
        liveness.heartbeat_age(row, liveness.store_now(None))
        assert liveness.session_pid(row) is None
    assert all(1 <= target <= PID_MAX for target in signalled), signalled
    notes = take_notes()  # what the command line would print as warnings
    assert notes and all("column pid holds" in n and "not a process id" in n for n in notes)


def _pid_warning(stderr: str, row: SessionRow) -> None:
    """One warning line naming the row's pid column as no process id, and nothing else."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"tui-trader: warning: sessions row {row.id} column pid holds ")
    assert "not a process id" in lines[0] and "Traceback" not in stderr


@pytest.mark.parametrize("pid", PIDS.values(), ids=list(PIDS))
def test_the_fleet_shows_a_hand_edited_pid_as_none(db_path: Path, tmp_path: Path, pid: int) -> None:
    """A live session (fresh heartbeat) with an edited pid: the fleet lists it with "-" for
    its pid (``null`` in JSON) and a warning, never the number as a process."""
    row = _running(db_path, pid)
    out = run_cli(tmp_path, "fleet", "--db", str(db_path))
    assert out.returncode == 0, out.stdout + out.stderr
    line = next(s for s in out.stdout.splitlines() if s.startswith(row.key))
    assert str(pid) not in line.split(), line
    _pid_warning(out.stderr, row)
    out = run_cli(tmp_path, "fleet", "--json", "--db", str(db_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert [r["pid"] for r in json.loads(out.stdout)] == [None]
    _pid_warning(out.stderr, row)


@pytest.mark.parametrize("pid", PIDS.values(), ids=list(PIDS))
def test_status_and_the_monitor_name_a_dead_session_without_its_edited_pid(
    db_path: Path, tmp_path: Path, pid: int
) -> None:
    """A dead session (stale heartbeat): ``status`` says its process is gone, ``live monitor``
    refuses to follow it; both say "pid ?" rather than the edited number."""
    row = _running(db_path, pid, beat_age=600)
    status = run_cli(tmp_path, "status", "--db", str(db_path))
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"pid ? on {row.host}" in status.stdout, status.stdout
    _pid_warning(status.stderr, row)
    monitor = run_cli(tmp_path, "live", "monitor", "--db", str(db_path))
    assert monitor.returncode == 2, monitor.stdout + monitor.stderr
    assert f"session {row.key} died (pid ? on " in monitor.stderr, monitor.stderr
    assert str(pid) not in monitor.stderr.split(), monitor.stderr
