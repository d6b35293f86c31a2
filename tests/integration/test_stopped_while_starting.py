"""A stop signal while ``live paper`` starts (its warm-up's downloads, start-up reconciliation):
the session row says ``stopped``, and one line says what happened.

Before, SIGTERM (a service stop) and SIGHUP (the terminal closed) ended the process where it
stood, silent, and Ctrl+C printed ``interrupted``: the row was left ``running`` until its
process was found gone, and reports then called the session ``died``. The start is slow here
for real: the sandbox answers every request a quarter of a second late.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle, wait_until

DEADLINE = 60.0


def _rows(db: Path) -> list[tuple]:
    """The session rows: status and cycles (none before the file and its tables exist)."""
    if not db.exists():
        return []
    with sqlite3.connect(db, timeout=10) as con:
        try:
            return con.execute("SELECT status, iterations FROM sessions").fetchall()
        except sqlite3.OperationalError:
            return []


@pytest.mark.parametrize(
    ("signum", "name"),
    [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP"), (signal.SIGINT, "Ctrl+C")],
    ids=["SIGTERM", "SIGHUP", "Ctrl+C"],
)
def test_a_stop_signal_while_live_paper_starts_ends_its_row_stopped(
    sandbox: SandboxHandle, tmp_path: Path, signum: int, name: str
) -> None:
    sandbox.admin.set_faults(latency=0.25)
    db = tmp_path / "desk.db"
    args = ["live", "paper", "--iterations", "0", "--every", "0.05", "--period", "5d"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args, *FAST_BUDGET, "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(tmp_path) | sandbox_env(sandbox),
        cwd=tmp_path,
    )
    try:
        # the row is the start's first write; its warm-up's requests come after it
        wait_until(lambda: proc.poll() is None and _rows(db), DEADLINE, "the session row")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "iter=" not in out  # it was still starting
    assert err == f"{name}: stopped while the session started, before its first cycle\n"
    assert proc.returncode == 128 + signum
    assert _rows(db) == [("stopped", 0)]
