"""A stop signal that a step of the start swallows still stops the session before it trades.

campaign32 (run pg6013): a ``live paper`` desk was sent Ctrl+C while it started; the start went
on, wrote its session row, placed orders and cycled until it was killed 90 s later. A step of
the start had taken the signal's ``Stopped`` and carried on (a library's ``except
BaseException``, a retry loop that counts an interrupt as one more failure). Here a stand-in for
such a step wraps the store's opening: it waits for the signal, swallows it, and goes on. The
command must end as a start the signal stopped: one line, the signal's exit code, no cycle, the
row ``stopped`` (if written), no order at the broker.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle, wait_until

DEADLINE = 60.0

_SWALLOWING = '''
import sys, threading, time
from pathlib import Path
import {module} as target

real = target.open_database
marker = Path(sys.argv[1])


def swallowing(*args, **kwargs):
    """The start's step that takes the stop signal and goes on (as a library may)."""
    marker.write_text("waiting")
    deadline = time.monotonic() + {deadline}
    while time.monotonic() < deadline:
        try:
            threading.Event().wait(0.05)
        except BaseException:  # the signal's Stopped: swallowed, the start goes on
            marker.write_text("swallowed")
            break
    return real(*args, **kwargs)


target.open_database = swallowing
from tui_trader.entry import main

sys.argv = ["tui-trader", *sys.argv[2:]]
sys.exit(main())
'''


def _rows(db: Path) -> list[tuple]:
    """The session rows: status and cycles (none before the file and its tables exist)."""
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as con:
        try:
            return con.execute("SELECT status, iterations FROM sessions").fetchall()
        except sqlite3.OperationalError:
            return []


def _run_stopped(tmp_path: Path, module: str, args: list[str], env: dict[str, str]) -> tuple:
    """Start the command with the swallowing step, send Ctrl+C while that step waits; its
    output, errors and exit code."""
    script = tmp_path / "swallowing_start.py"
    script.write_text(_SWALLOWING.format(module=module, deadline=DEADLINE))
    marker = tmp_path / "step"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(marker), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        wait_until(
            lambda: proc.poll() is None and marker.exists() and marker.read_text() == "waiting",
            DEADLINE,
            "the start's step waiting",
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=DEADLINE * 2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert marker.read_text() == "swallowed"  # the step did take the signal and went on
    return out, err, proc.returncode


def test_live_paper_stops_when_its_start_swallowed_the_ctrl_c(
    sandbox: SandboxHandle, tmp_path: Path, trading
) -> None:
    db = tmp_path / "desk.db"
    args = ["live", "paper", "--iterations", "3", "--every", "0.05", "--period", "5d"]
    args += [*FAST_BUDGET, "--db", str(db)]
    env = cli_env(tmp_path) | sandbox_env(sandbox)
    out, err, code = _run_stopped(tmp_path, "tui_trader.session.alpaca", args, env)
    assert "iter=" not in out  # before: it started anyway and cycled
    assert err == "Ctrl+C: stopped while the session started, before its first cycle\n"
    assert code == 130
    assert _rows(db) == [("stopped", 0)]
    assert trading.get_orders() == []  # nothing sent to the broker


def test_local_paper_stops_when_its_start_swallowed_the_ctrl_c(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    args = ["paper", "--iterations", "3", "--every", "0", "--db", str(db)]
    out, err, code = _run_stopped(tmp_path, "tui_trader.session.local", args, cli_env(tmp_path))
    assert "iter=" not in out  # before: it started anyway and cycled
    assert err == "Ctrl+C: stopped while the session started, before its first cycle\n"
    assert code == 130
    assert _rows(db) == [("stopped", 0)]
