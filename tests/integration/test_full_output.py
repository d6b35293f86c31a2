"""Standard output that cannot be written (``> /dev/full``, a full disk under a redirect): one
plain line and exit 2, never a crash report; a session stops cleanly saying so.

Before, every command ended with "tui-trader: error: OSError: [Errno 28] No space left on
device (details in .../crash.log)", exit 1, as if tui-trader had a bug.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli_helpers import cli_env, seeded_paper_db

FULL = Path("/dev/full")
"""Linux's always-full device: every write to it fails with ENOSPC."""


def _to_full(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tui_trader ARGS > /dev/full``."""
    with FULL.open("w") as full:
        return subprocess.run(
            [sys.executable, "-m", "tui_trader", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=cli_env(tmp_path),
            cwd=tmp_path,
            timeout=120,
        )


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database after a short paper session."""
    return seeded_paper_db(tmp_path_factory.mktemp("full"))


@pytest.mark.parametrize(
    "args",
    [["status"], ["history"], ["fleet", "--json"], ["report"], ["config", "show"]],
    ids=lambda a: " ".join(a),
)
def test_a_command_whose_output_cannot_be_written_says_so_in_one_line(
    traded: Path, tmp_path: Path, args: list[str]
) -> None:
    given = [*args, "--db", str(traded)] if args[0] != "config" else args
    done = _to_full(tmp_path, *given)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "tui-trader: error: cannot write to standard output (No space left on device): "
        "what was printed is incomplete"
    ]
    assert not list(tmp_path.rglob("crash.log"))


@pytest.mark.parametrize(
    "args",
    [["--help"], ["paper", "--help"], ["live", "monitor", "--help"], ["config", "show", "-h"]],
    ids=lambda a: " ".join(a),
)
def test_help_that_cannot_be_written_says_so_in_one_line(tmp_path: Path, args: list[str]) -> None:
    """``--help`` is a command whose only output is standard output: before, argparse's exit
    after printing it left the failed write to the interpreter's last flush, which said nothing,
    and the process exited 0 as if the help had been shown."""
    done = _to_full(tmp_path, *args)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "tui-trader: error: cannot write to standard output (No space left on device): "
        "what was printed is incomplete"
    ]
    assert not list(tmp_path.rglob("crash.log"))


def test_a_session_whose_output_cannot_be_written_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    done = _to_full(tmp_path, "paper", "--db", str(db), "--iterations", "50")
    assert done.returncode == 1, done.stderr  # it ran, and stopped: not bad input
    (line,) = done.stderr.splitlines()
    assert line.startswith("tui-trader: standard output cannot be written (No space left on ")
    assert "stopping the session cleanly" in line
    with sqlite3.connect(db) as con:
        status, ended = con.execute("SELECT status, ended_at FROM sessions").fetchone()
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert status == "stopped" and ended is not None
    assert not list(tmp_path.rglob("crash.log"))
