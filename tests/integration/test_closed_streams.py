"""A command started with its standard streams closed (``>&-``, ``2>&-``, ``<&-``) runs as with
``>/dev/null``: no crash, its session recorded as it ended, the exit code telling how it went."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.integration.cli_helpers import cli_env


def _sh(tmp_path: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tui_trader`` through a shell (the only way to close a stream for it)."""
    return subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m tui_trader {command}'],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )


def _sessions(db: Path) -> list[tuple[str, int]]:
    """Every session's status and cycle count."""
    with sqlite3.connect(db) as con:
        return con.execute("SELECT status, iterations FROM sessions ORDER BY id").fetchall()


def test_paper_with_its_output_closed_from_the_start_runs_and_ends_recorded(
    tmp_path: Path,
) -> None:
    """``paper >&-`` (before: an AttributeError on ``None``, a traceback, exit 120 and the row
    left ``running``) and ``paper >&- 2>&- <&-`` both complete, exit 0, rows ``completed``."""
    db = tmp_path / "a.db"
    out_closed = _sh(tmp_path, f"paper --iterations 2 --db {db} >&-")
    assert (out_closed.returncode, out_closed.stderr) == (0, "")
    all_closed = _sh(tmp_path, f"paper --iterations 2 --db {db} >&- 2>&- <&-")
    assert all_closed.returncode == 0
    assert _sessions(db) == [("completed", 2), ("completed", 2)]


def test_bad_input_with_stdout_closed_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    """Bad input is still one plain line on stderr and exit 2 when output is closed."""
    bad = _sh(tmp_path, f"paper --symbols '$' --db {tmp_path / 'b.db'} >&-")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "tui-trader: error: argument --symbols: invalid symbol '$' (see 'tui-trader paper --help')"
    ]
