"""SIGTERM and SIGHUP end a session the way Ctrl+C does: the cycle finishes, the session row
says ``stopped``, the final snapshot is written and the summary printed (local and Alpaca)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env, start_cli, start_live_paper
from tui_trader.sandbox.testing import SandboxHandle


def wait_for_iterations(proc: subprocess.Popen[str], count: int) -> None:
    """Read stdout until ``count`` iteration lines have been printed."""
    seen = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("iter="):
            seen += 1
            if seen >= count:
                return
    raise AssertionError(f"the session ended before {count} iterations: {proc.stderr.read()}")


def assert_stopped_cleanly(proc: subprocess.Popen[str], db: Path) -> str:
    """Exit 0, a summary, no traceback; the row stopped, a snapshot per cycle, a whole file."""
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Session stopped" in rest and "Traceback" not in err
    with sqlite3.connect(db) as con:
        status, iterations, ended = con.execute(
            "SELECT status, iterations, ended_at FROM sessions"
        ).fetchone()
        snaps = con.execute("SELECT count(*) FROM live_account_snapshots").fetchone()[0]
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert status == "stopped" and ended is not None
    assert snaps >= iterations >= 2
    return rest


STOP_NEEDS_A_HELD_LOCK = """
import signal, threading
from rich.console import Console
from tui_trader.cli.stop_signals import ctrl_c

held = threading.Lock()  # as the condition inside an Event the runner is clearing
stopped = threading.Event()

def stop():
    with held:
        stopped.set()

with ctrl_c(stop, Console()):
    with held:
        signal.raise_signal(signal.SIGTERM)
    stopped.wait(30)
print("stopped" if stopped.is_set() else "not stopped")
"""


def test_a_signal_that_lands_while_a_lock_is_held_still_stops_the_run(tmp_path: Path) -> None:
    """A stop signal arriving while the main thread holds a lock that stopping needs.

    The handler called ``stop`` itself, on the main thread, which then waited for itself:
    ``live paper`` printed "SIGHUP: stopping after this iteration" and hung until killed (CI).
    """
    done = subprocess.run(
        [sys.executable, "-c", STOP_NEEDS_A_HELD_LOCK],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "SIGTERM: stopping after this iteration" in done.stdout
    assert done.stdout.strip().endswith("stopped") and "not stopped" not in done.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_paper_stops_cleanly_on_sigterm_and_sighup(tmp_path: Path, signum: int) -> None:
    db = tmp_path / "s.db"
    proc = start_cli(tmp_path, "paper", "--db", str(db), "--iterations", "0", "--every", "0.02")
    try:
        wait_for_iterations(proc, 2)
        proc.send_signal(signum)
        rest = assert_stopped_cleanly(proc, db)
    finally:
        proc.kill()
    assert f"{signal.Signals(signum).name}: stopping after this iteration" in rest


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_live_paper_stops_cleanly_on_sigterm_and_sighup(
    pumped: SandboxHandle, tmp_path: Path, signum: int
) -> None:
    db = tmp_path / "live.db"
    proc = start_live_paper(tmp_path, sandbox_env(pumped), db)
    try:
        wait_for_iterations(proc, 2)
        proc.send_signal(signum)
        assert_stopped_cleanly(proc, db)
    finally:
        proc.kill()


def test_live_status_with_a_database_shows_the_risk_state(
    pumped: SandboxHandle, tmp_path: Path
) -> None:
    """``live status --db FILE`` printed the account, then failed on the path's type."""
    db = tmp_path / "live.db"
    env = cli_env(tmp_path) | sandbox_env(pumped)
    run = [sys.executable, "-m", "tui_trader", "live"]
    paper = ["paper", "--iterations", "2", "--every", "0.05", "--period", "1d", *FAST_BUDGET]
    first = subprocess.run(
        [*run, *paper, "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    out = subprocess.run(
        [*run, "status", "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "risk state: ACTIVE; orders today" in out.stdout and out.stderr == ""
