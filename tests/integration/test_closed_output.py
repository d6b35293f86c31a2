"""A session whose standard output is closed under it (``tui-trader paper | head``, a dead
``tee``) stops cleanly and says so once on stderr, instead of leaving at once (rich's
``SystemExit(1)`` on a broken pipe) with nothing said, its row still ``running`` and, on
Alpaca, its orders working with no desk behind them."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from tests.integration.alpaca_helpers import sandbox_env
from tests.integration.cli_helpers import start_cli, start_live_paper
from tests.integration.test_signals import wait_for_iterations
from tui_trader.cli.closed_output import NOTICE
from tui_trader.sandbox.testing import SandboxHandle


def assert_ended_by_the_closed_pipe(proc: subprocess.Popen[str], db: Path) -> None:
    """The reader went away: exit 0, one line on stderr, the row ``stopped``, a whole file."""
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # what `head` does once it has its lines
    proc.wait(timeout=60)
    err = proc.stderr.read()
    assert proc.returncode == 0, err
    assert err.splitlines() == [NOTICE]
    with sqlite3.connect(db) as con:
        status, ended = con.execute("SELECT status, ended_at FROM sessions").fetchone()
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert status == "stopped" and ended is not None


def test_paper_stops_cleanly_when_its_output_is_closed(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    proc = start_cli(tmp_path, "paper", "--db", str(db), "--iterations", "0", "--every", "0.02")
    try:
        wait_for_iterations(proc, 2)
        assert_ended_by_the_closed_pipe(proc, db)
    finally:
        proc.kill()


def test_live_paper_stops_cleanly_when_its_output_is_closed(
    pumped: SandboxHandle, tmp_path: Path
) -> None:
    db = tmp_path / "live.db"
    proc = start_live_paper(tmp_path, sandbox_env(pumped), db)
    try:
        wait_for_iterations(proc, 2)
        assert_ended_by_the_closed_pipe(proc, db)
    finally:
        proc.kill()
