"""Session liveness: process id, host and heartbeat say whether a ``running`` row is alive, and
the reports show a dead one as ``died``."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import age_heartbeat
from tests.integration.cli_helpers import run_cli
from tui_trader.core.clock import WallClock
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.liveness import (
    MIN_WINDOW,
    alive_within,
    is_alive,
    shown_status,
    window_for,
)
from tui_trader.store.models import SessionRow


def _running(db_path: Path, beat_age: float = 0.0, pid: int | None = None) -> SessionRow:
    """A ``running`` session row, its heartbeat ``beat_age`` seconds old (and another pid)."""
    audit = AuditLog(open_database(db_path), WallClock())
    row = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    age_heartbeat(row.id, beat_age)
    if pid is not None:
        SessionRow.update(pid=pid).where(SessionRow.id == row.id).execute()
    return SessionRow.get_by_id(row.id)


def test_a_session_is_alive_while_its_heartbeat_is_fresh(db_path: Path) -> None:
    """Fresh heartbeat: alive; older than its window: died; ended: never alive."""
    row = _running(db_path)
    assert row.pid and row.host and row.heartbeat_window == MIN_WINDOW
    assert is_alive(row) and shown_status(row) == "running"
    row = _running(db_path, beat_age=MIN_WINDOW + 1)
    assert not is_alive(row) and shown_status(row) == "died"
    row.status = "completed"
    assert not is_alive(row) and shown_status(row) == "completed"
    assert window_for(60.0) == 180.0 and window_for(0.1) == MIN_WINDOW


def test_a_session_whose_process_is_gone_is_dead_at_once(db_path: Path) -> None:
    """Same host, the recorded process has exited: dead although the heartbeat is fresh."""
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    row = _running(db_path, pid=int(gone.stdout))
    assert not is_alive(row)


def test_a_killed_desk_counts_as_alive_within_a_minute_of_its_last_beat_on_the_boot_clock(
    db_path: Path,
) -> None:
    """A desk killed (its process gone) a moment after its last heartbeat showed life within
    the last minute (its orders may still be unlisted: ``engine.others_working``), judged on
    the boot clock, whatever its wall clock wrote (a desk under libfaketime an hour ahead); two
    minutes after, it did not."""
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    row = _running(db_path, pid=int(gone.stdout))
    now = datetime.now(UTC)
    assert not is_alive(row) and alive_within(row, 60.0, now)
    row.heartbeat_at = now + timedelta(hours=1)  # its wall clock ahead: the boot clock judges
    assert alive_within(row, 60.0, now)
    row = _running(db_path, beat_age=120.0, pid=int(gone.stdout))
    assert not alive_within(row, 60.0, now)


def test_status_and_history_show_a_dead_session_as_died(db_path: Path, tmp_path: Path) -> None:
    """A row left ``running`` by a killed process: ``status`` and ``history`` say died, with
    the pid, host and last heartbeat."""
    row = _running(db_path, beat_age=600)
    status = run_cli(tmp_path, "status", "--db", str(db_path))
    assert status.returncode == 0, status.stderr
    assert "status=died" in status.stdout
    assert f"pid {row.pid} on {row.host}" in status.stdout
    history = run_cli(tmp_path, "history", "--db", str(db_path), "--orders")
    assert history.returncode == 0, history.stderr
    assert "died)" in history.stdout


def test_a_session_beats_while_it_waits_between_cycles(db_path: Path) -> None:
    """``--every 25``: the window stored is 75 s, and the wait is cut into 2 s slices (the
    runner's looks for another process's requests: ``KILL_LOOK_S``) with a heartbeat after
    each, so a long wait never makes the session look dead."""
    from tests.conftest import make_session
    from tui_trader.session.runner import SessionRunner

    session = make_session(db_path)
    seen: list[str] = []
    clock_wait = session.clock.wait

    def wait(seconds: float, stop: object) -> bool:
        seen.append(f"wait {seconds:g}")
        return clock_wait(seconds, stop)  # type: ignore[arg-type]

    session.clock.wait = wait  # type: ignore[method-assign]
    session.audit.beat = lambda force=False, iterations=None: seen.append("beat")  # type: ignore[method-assign]
    result = SessionRunner(session, iterations=1, every=25.0).run()
    assert result.status == "completed"
    start = seen.index("wait 2")
    after = seen[start:]
    waits = [i for i, what in enumerate(after) if what.startswith("wait")]
    assert [after[i] for i in waits] == ["wait 2"] * 12 + ["wait 1"]
    assert all(after[i + 1] == "beat" for i in waits[:-1])  # a heartbeat after each slice
    row = SessionRow.get_by_id(session.audit.session.id)
    assert row.heartbeat_window == 75.0


def test_a_session_that_dies_without_ending_shows_the_cycles_it_ran(db_path: Path) -> None:
    """A session killed mid-run never writes its end: its row still counts the cycles it ran
    (as of its last heartbeat), so ``status`` does not say a dead session ran 0 cycles."""
    from tests.conftest import make_session

    session = make_session(db_path)
    for _ in range(5):
        session.run_iteration()  # within a second: their own heartbeats are skipped
    session.audit.beat(force=True)  # the runner's heartbeat while it waits for the next bar
    # no finish(): the process "dies" here
    row = SessionRow.get_by_id(session.audit.session.id)
    assert row.status == "running"
    assert row.iterations == 5
