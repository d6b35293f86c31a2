"""A session whose standard output is closed under it (``tui-trader paper | head``, a dead
``tee``) stops cleanly and says so once on stderr, instead of leaving at once (rich's
``SystemExit(1)`` on a broken pipe) with nothing said, its row still ``running`` and, on
Alpaca, its orders working with no desk behind them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.alpaca_helpers import sandbox_env
from tests.integration.cli_helpers import cli_env, start_cli, start_live_paper
from tests.integration.test_signals import wait_for_iterations
from tui_trader.cli.closed_output import NOTICE
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import database


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


@pytest.mark.parametrize(
    "args",
    [("fleet",), ("config", "show"), ("history",), ("report",), ("paper", "--help")],
    ids=lambda a: "-".join(a),
)
def test_a_command_whose_reader_is_gone_finishes_quietly(tmp_path: Path, args) -> None:
    """``tui-trader fleet | head -1`` (the reader gone before the first line): no
    BrokenPipeError, no crash log, nothing on stderr, the command's own exit code. fleet and
    config show crashed (exit 1, 'BrokenPipeError ... details in crash.log'); history and report
    left with exit 1 (rich's broken pipe) instead of their own 0. --help was quiet already and
    stays so behind the guard every command now runs behind."""
    db = tmp_path / "s.db"
    session = make_session(db)
    for _ in range(3):
        session.run_iteration()
    session.finish("completed")
    database.close()
    read, write = os.pipe()
    os.close(read)  # the reader has gone: every write finds the pipe closed
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui_trader", *args, "--db", str(db)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(tmp_path),
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (0, "")
    assert not list(tmp_path.rglob("crash.log"))


def test_a_refusal_whose_reader_is_gone_keeps_its_exit_code(tmp_path: Path) -> None:
    """``tui-trader paper --bogus 2>&1 | true``: the one error line cannot be written, so the
    refusal ended in BrokenPipeError (exit 1, and a crash log); it keeps exit 2, quietly."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui_trader", "paper", "--bogus"],
            stdout=write,
            stderr=write,
            env=cli_env(tmp_path),
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        os.close(write)
    assert done.returncode == 2
    assert not list(tmp_path.rglob("crash.log"))
