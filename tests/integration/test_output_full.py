"""A headless session whose output cannot grow (``> /dev/full``, a log file on a full disk, over
its quota or past ``ulimit -f``) stops cleanly: one line on stderr, exit 1, its row ``stopped``,
no halt, no crash log.

The output is a copy for the eye; the audit store is the record. Before, the first write that
failed mid-session failed the session (``session_error: OSError: [Errno 27] File too large``,
the account halted until reset, a crash log), and one that failed in the header left the
process with ``OSError: [Errno 28] No space left on device`` and a crash log, its row
``running``. A full disk needs a small file system (root-only), so the file's size limit stands
in for it: the same refusal of a write that would grow the file, mid-session.
"""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle

LIMIT = 64 * 1024 * 1024
"""The biggest file the session may write (``ulimit -f``): far above its database's size."""
ROOM = 3_000
"""Bytes left in the output file under the limit: the header and a few cycle lines."""
LIVE_ROOM = 1_000
"""The same for ``live paper``: its header (~600 bytes) and about five cycles."""


def _rows(db: Path) -> tuple[list[tuple], list[tuple]]:
    """The session rows (status, cycles) and the account's risk state (state, reason)."""
    with sqlite3.connect(db, timeout=10) as con:
        sessions = con.execute("SELECT status, iterations FROM sessions").fetchall()
        risk = con.execute("SELECT state, halt_reason FROM risk_state").fetchall()
    return sessions, risk


def _size_limited() -> None:
    """In the child: files stop growing at ``LIMIT`` with EFBIG (SIGXFSZ ignored, as a
    service manager's ``LimitFSIZE`` would leave it, instead of killing the process)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def _assert_stopped_cleanly(done: subprocess.CompletedProcess[str], tmp_path: Path) -> None:
    """Exit 1, the one line, no crash log."""
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tui-trader: standard output cannot be "), (
        done.stderr
    )
    assert ": stopping the session cleanly" in lines[0]
    assert not list(tmp_path.rglob("crash.log"))


def test_paper_into_dev_full_stops_at_its_header(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    with open(os.devnull.replace("null", "full"), "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "tui_trader", "paper", "--iterations", "3", "--db", str(db)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(tmp_path),
            cwd=tmp_path,
            timeout=60,
        )
    _assert_stopped_cleanly(done, tmp_path)
    assert "no space left on device" in done.stderr.lower()
    sessions, risk = _rows(db)
    assert sessions == [("stopped", 0)]
    assert all(state.lower() != "halted" for state, _reason in risk)


def _grows_until_full(
    tmp_path: Path, args: list[str], env: dict[str, str], room: int = ROOM
) -> Path:
    """Run ``args`` with its output on a file that stops growing ``room`` bytes on (at the
    file size limit); the database's path, once the command ended (it must end by itself)."""
    db = tmp_path / "desk.db"
    out = tmp_path / "desk.log"
    with open(out, "wb") as grown:
        grown.truncate(LIMIT - room)  # sparse: no disk used
    with open(out, "a") as log:
        done = subprocess.run(
            [sys.executable, "-m", "tui_trader", *args, "--db", str(db)],
            stdout=log,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(tmp_path) | env,
            cwd=tmp_path,
            timeout=60,
            preexec_fn=_size_limited,
        )
    _assert_stopped_cleanly(done, tmp_path)
    assert "file too large" in done.stderr.lower()
    assert "iter=" in out.read_bytes()[LIMIT - room :].decode()  # it had run some cycles
    return db


@pytest.mark.parametrize("mode", ["paper", "live paper"])
def test_a_session_whose_output_file_stops_growing_mid_session_stops_without_a_halt(
    mode: str, pumped: SandboxHandle, tmp_path: Path
) -> None:
    """On the local broker and on an Alpaca account (the sandbox): the account not halted."""
    every = ["--iterations", "0", "--every", "0.02"]
    if mode == "paper":
        db = _grows_until_full(tmp_path, ["paper", *every], {})
    else:
        args = ["live", "paper", *every, "--period", "1d", "--timeout", "2", *FAST_BUDGET]
        db = _grows_until_full(tmp_path, args, sandbox_env(pumped), LIVE_ROOM)
    sessions, risk = _rows(db)
    assert [status for status, _cycles in sessions] == ["stopped"]
    assert sessions[0][1] > 0
    assert all(state.lower() != "halted" for state, _reason in risk), risk
