"""The desk whose terminal goes away (a closed terminal window, ``tmux kill-session``, a dropped
SSH link) ends its session and exits, instead of hanging for ever on writes nobody reads.

The real app runs in a real pseudo-terminal; the test closes the terminal's side and sends the
hang-up the kernel would send. Before the fix the process never exited: Textual's output thread
died on the first write to the gone terminal, and the next writes blocked on its full queue.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from tests.integration.cli_helpers import cli_env

DEADLINE = 60.0
EXIT_S = 30.0
"""How long the desk may take to stop its session and exit after the hang-up."""


def _drain(master: int, stop: threading.Event) -> None:
    """Read what the app draws, as a terminal would, until told to stop."""
    while not stop.is_set():
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return


def _rows(db: Path, sql: str) -> list[tuple]:
    """Rows of one query on the desk's database (none while it is being created)."""
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def test_a_desk_whose_terminal_is_gone_stops_its_session_and_exits(tmp_path: Path) -> None:
    """Start a session from the setup screen, close the terminal, hang up: the session ends
    'stopped' and the process exits within the deadline."""
    db = tmp_path / "desk.db"
    # a fast session (the setup form starts from this file) draws many frames a second
    (tmp_path / "tui-trader.toml").write_text("every = 0.05\n")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    env = cli_env(tmp_path) | {"TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    env.pop("COLUMNS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", "--db", str(db)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    os.close(slave)
    stop = threading.Event()
    reader = threading.Thread(target=_drain, args=(master, stop), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + DEADLINE
        sql = "SELECT count(*) FROM live_account_snapshots"
        while not (_rows(db, sql) and _rows(db, sql)[0][0] >= 2):
            assert proc.poll() is None, "the desk ended before its session started"
            assert time.monotonic() < deadline, "no session started from the setup screen"
            os.write(master, b"\r")  # Start (focused on the setup screen)
            stop.wait(0.5)
        stop.set()
        reader.join(timeout=5)
        os.close(master)  # the terminal is gone
        # the session goes on and the desk keeps drawing its reports into the gone terminal
        seen = _rows(db, sql)[0][0]
        while _rows(db, sql)[0][0] < seen + 60:
            assert proc.poll() is None, "the desk ended before the hang-up"
            assert time.monotonic() < deadline + DEADLINE, "the session stopped cycling"
            threading.Event().wait(0.1)
        os.kill(proc.pid, signal.SIGHUP)
        try:
            proc.wait(timeout=EXIT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError("the desk hung after its terminal went away") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _rows(db, "SELECT status FROM sessions") == [("stopped",)]
