"""A stop signal while ``live paper`` starts (its warm-up's downloads, start-up reconciliation):
the session row says ``stopped``, and one line says what happened.

Before, SIGTERM (a service stop) and SIGHUP (the terminal closed) ended the process where it
stood, silent, and Ctrl+C printed ``interrupted``: the row was left ``running`` until its
process was found gone, and reports then called the session ``died``. The start is slow here
for real: the sandbox answers every request a quarter of a second late.
"""

from __future__ import annotations

import contextlib
import os
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


def _filled_pipe() -> tuple[int, int]:
    """A pipe whose buffer is full but for a few bytes: the next lines written to it wait
    until the reader reads (a terminal scrolled back, a slow ``tee``)."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write, b"." * 4096)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write, b".")
    os.read(read, 16)  # room for part of the header's first line, not all of it
    os.set_blocking(write, True)
    return read, write


def _writing_to_a_full_pipe(pid: int) -> bool:
    """True while the process's main thread waits for room in the pipe it writes to."""
    try:
        return "pipe_write" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:  # gone
        return False


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["SIGTERM", "SIGHUP", "Ctrl+C"]
)
def test_a_stop_signal_between_the_start_and_the_first_cycle_ends_the_row_stopped(
    tmp_path: Path, signum: int
) -> None:
    """The header's lines come after the start and before the run. A signal there met
    Python's defaults: SIGTERM and SIGHUP ended the process where it stood, Ctrl+C left with
    ``interrupted``; the row stayed ``running``. The header is held here by an output that
    takes no more (its pipe full) while the signal comes."""
    db = tmp_path / "desk.db"
    read, write = _filled_pipe()
    args = ["paper", "--iterations", "0", "--every", "0.05", "--db", str(db)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args],
        stdout=write,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    os.close(write)
    try:
        # started (its row written) and stuck in its header: the pipe takes no more
        wait_until(
            lambda: _rows(db) == [("running", 0)] and _writing_to_a_full_pipe(proc.pid),
            DEADLINE,
            "the header waiting for the output",
        )
        proc.send_signal(signum)
        with os.fdopen(read, "rb") as out:
            printed = out.read()  # the reader catches up: the header goes on
        _out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"iter=" not in printed  # no cycle ran
    assert "Traceback" not in err and "interrupted" not in err, err
    assert proc.returncode == 0, err
    assert _rows(db) == [("stopped", 0)]
