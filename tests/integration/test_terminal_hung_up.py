"""A headless session whose terminal is closed under it (its window closed, ``tmux
kill-session``, a dropped SSH link) ends as after Ctrl+C: ``stopped``, no halt, no crash log.

Once the terminal hangs up, every write to it fails with EIO, and ``isatty`` no longer calls it
a terminal. The session's next cycle line usually came before its SIGHUP was handled: the
error failed the session (``session_error: OSError: [Errno 5] Input/output error``), which
halted an Alpaca account until someone reset it, and wrote a crash log (5 of 6 ``paper``
sessions killed with their tmux session by hand). Where the SIGHUP came first, its handler
kept the hung-up terminal (not a tty any more) as the output, and the summary's write
crashed the same way. A terminal whose hang-up reaches the process late, or never (a process
outside the terminal's session), is the same case without the signal.

The session runs on a real pseudo-terminal; the test closes the terminal's side, as a closed
window does, and then sends the hang-up the kernel would send (or none).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle, wait_until

DEADLINE = 60.0


def _drain(master: int, stop: threading.Event) -> None:
    """Read what the session prints, as a terminal would, until told to stop."""
    while not stop.is_set():
        if select.select([master], [], [], 0.05)[0]:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return


def _rows(db: Path, sql: str) -> list[tuple]:
    """``sql``'s rows from the session's database (none before it exists)."""
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as con:
        try:
            return con.execute(sql).fetchall()
        except sqlite3.OperationalError:  # its tables not made yet
            return []


def _hang_up_under(tmp_path: Path, args: list[str], signalled: bool, env: dict[str, str]) -> int:
    """Run ``tui-trader ARGS`` on a terminal, close the terminal once the session has cycled
    a few times (then send SIGHUP if ``signalled``); the exit code."""
    db = tmp_path / "desk.db"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args, "--db", str(db)],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=cli_env(tmp_path) | env | {"PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(slave)
    stop = threading.Event()
    reader = threading.Thread(target=_drain, args=(master, stop), daemon=True)
    reader.start()
    try:
        sql = "SELECT count(*) FROM live_account_snapshots"
        wait_until(lambda: proc.poll() is None and (_rows(db, sql) or [(0,)])[0][0] >= 3, DEADLINE)
        stop.set()
        reader.join(timeout=5)
        os.close(master)  # the terminal is gone: the session's writes fail from here on
        if signalled:
            proc.send_signal(signal.SIGHUP)
        return proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _assert_ended_cleanly(tmp_path: Path) -> None:
    """The session row ``stopped``, no halt for the session's error, no crash log."""
    db = tmp_path / "desk.db"
    assert _rows(db, "SELECT status FROM sessions") == [("stopped",)]
    events = _rows(db, "SELECT event_type, detail FROM live_risk_events")
    assert not [e for e in events if e[0] == "session_error"], events
    assert _rows(db, "SELECT state FROM risk_state WHERE state = 'halted'") == []
    assert not (tmp_path / "state" / "tui-trader" / "log" / "crash.log").exists()


@pytest.mark.parametrize("signalled", [False, True], ids=["no-hang-up-signal", "sighup"])
def test_paper_whose_terminal_is_closed_stops_cleanly(tmp_path: Path, signalled: bool) -> None:
    args = ["paper", "--iterations", "0", "--every", "0.02"]
    assert _hang_up_under(tmp_path, args, signalled, {}) == 0
    _assert_ended_cleanly(tmp_path)


def test_live_paper_whose_terminal_is_closed_leaves_its_account_unhalted(
    pumped: SandboxHandle, tmp_path: Path
) -> None:
    """Before: the account halted (``session_error``) until someone reset it."""
    args = ["live", "paper", "--iterations", "0", "--every", "0.02", "--period", "1d"]
    args += ["--timeout", "2", *FAST_BUDGET]
    assert _hang_up_under(tmp_path, args, False, sandbox_env(pumped)) == 0
    _assert_ended_cleanly(tmp_path)
