"""The audit trail refused by the system for another reason than a full disk.

A file-size limit (``ulimit -f``, ``RLIMIT_FSIZE``) or an exceeded disk quota makes the write
fail with EFBIG or EDQUOT, which SQLite reports as "disk I/O error", not "disk is full" (it says
that only for ENOSPC). Before, the session died with ``OperationalError: disk I/O error
(details in crash.log)`` and no summary; now it stops as it does on a full disk, in one line.
Python ignores SIGXFSZ, so the child gets the error instead of being killed by the signal.
"""

from __future__ import annotations

import re
import resource
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.integration.cli_helpers import cli_env

LIMIT = 1_000_000
"""Bytes any file of the child may grow to: the session starts, then its log outgrows it."""


def _limited() -> None:
    """In the child, before it runs: files may not grow past ``LIMIT``."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_a_file_size_limit_stops_the_session_in_one_plain_line(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    done = subprocess.run(
        [sys.executable, "-m", "tui_trader", "paper", "--iterations", "400", "--db", str(db)],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
        preexec_fn=_limited,
    )
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr
    said = (
        f"tui-trader: error: the audit trail at {db} could not be written (disk I/O error: a "
        "file-size limit, a disk quota or a failing disk): trading stopped, no order sent "
        "without its row"
    )
    # where the file outgrows the limit decides whether an order of the simulated account was
    # working then: cancelled, and said on the same line (``engine.lost_store_cancels``)
    cancelled = re.fullmatch(
        r"; cancelled \d+ working order\(s\) of the simulated account, not recorded: the audit "
        r"store is lost; that account ends with this desk, so nothing can fill them",
        done.stderr.removeprefix(said).removesuffix("\n"),
    )
    assert done.stderr == said + "\n" or (done.stderr.startswith(said) and cancelled), done.stderr
    assert "Session failed" in done.stdout and "Traceback" not in done.stdout
    with sqlite3.connect(db) as conn:
        (status, cycles), *_ = conn.execute("SELECT status, iterations FROM sessions")
        halts = conn.execute("SELECT event_type FROM live_risk_events").fetchall()
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert status == "failed" and 0 < cycles < 400
    assert halts == [("session_error",)]
