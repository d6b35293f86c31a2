"""An ASCII-only terminal (``LANG=C PYTHONIOENCODING=ascii``), which the README says works:
a character its encoding lacks is printed as an escape, never a crash mid-session."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.integration.cli_helpers import cli_env


def _ascii_run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(tmp_path), "LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": "ascii"}
    return subprocess.run(
        [sys.executable, "-m", "tui_trader", *args],
        capture_output=True,
        text=True,
        encoding="ascii",
        errors="strict",  # what such a terminal can show: nothing but ASCII may arrive
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_a_session_on_a_non_ascii_path_runs_to_its_end_on_an_ascii_terminal(
    tmp_path: Path,
) -> None:
    """paper --db ü.db crashed printing its header's database line (UnicodeEncodeError, exit 1,
    the session row left 'died' by the next start); report --html é.html crashed after writing
    its page. Both now print the name with an escape and end as they should."""
    db = tmp_path / "ü.db"
    run = _ascii_run(tmp_path, "paper", "--iterations", "2", "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert f"Database: {str(db).replace('ü', chr(92) + 'xfc')}" in run.stdout
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status FROM sessions").fetchall() == [("completed",)]
    con.close()
    page = tmp_path / "é.html"
    report = _ascii_run(tmp_path, "report", "--db", str(db), "--html", str(page))
    assert report.returncode == 0, report.stderr
    assert "HTML report written to" in report.stdout and page.is_file()
