"""A start on an Alpaca key whose requests this minute another desk has nearly spent.

Every answer says what the key has left of its minute; the desk's reads leave the last few to
orders and cancels. A start that met such a minute was refused as bad input (exit 2, "the
account's requests this minute are nearly spent"). Now it waits for the minute's end, saying so
in one line with the seconds, and starts; a count that changes only minutes from now ends the
start in plain words with exit 1, nothing written (``session.key_minute``).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.alpaca_helpers import alpaca_session, sandbox_env, spend_key_minute
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import running_sandbox

LIVE_PAPER = [sys.executable, "-m", "tui_trader", "live", "paper"]
LEFT = 12
"""Requests the neighbour leaves of the key's minute: above the reserve (10), too few for a
start."""


def test_a_start_on_a_nearly_spent_minute_waits_for_the_next_and_starts(tmp_path: Path) -> None:
    """A minute of four seconds (the sandbox's window, shortened): the start says it waits,
    how long, and why, in one line, then starts. The sandbox holds the spent minute until the
    start has said its wait (a start slower than the window, on a loaded machine, would
    otherwise meet a fresh minute and not wait at all)."""
    with running_sandbox(faults="rate_limit=200,rate_hold=1", rate_window_s=4.0) as sb:
        spend_key_minute(sb, LEFT)
        said: list[str] = []

        def say(line: str) -> None:
            said.append(line)
            sb.admin.set_faults(rate_hold=0)  # the neighbour stops: the minute runs on

        began = time.monotonic()
        session = alpaca_session(sb, tmp_path / "k.db", say=say)
        waited = time.monotonic() - began
        try:
            assert session.started
            [line] = said
            assert line.startswith("waiting ") and " s before starting: " in line, line
            seconds = int(line.split()[1])
            assert 1 <= seconds <= 4 + 2, line  # the window, and the reset's whole second
            assert "requests for this minute are nearly spent" in line
            assert waited >= seconds - 0.5, "it waited as long as it said"
        finally:
            session.broker.close()


def test_a_key_spent_for_longer_than_a_minute_ends_the_start_with_exit_1(tmp_path: Path) -> None:
    """The key's count changes only ten minutes from now: not worth a wait, and not bad input:
    one line on stderr, exit 1, no traceback, no session row."""
    with running_sandbox(faults="rate_limit=200", rate_window_s=600.0) as sb:
        spend_key_minute(sb, LEFT)
        env = cli_env(tmp_path)
        env.update(sandbox_env(sb))
        db = tmp_path / "k.db"
        done = subprocess.run(
            [*LIVE_PAPER, "--iterations", "1", "--ignore-market-hours", "--db", str(db)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    assert done.returncode == 1, (done.returncode, done.stderr)
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("tui-trader: error: the Alpaca key's requests are nearly spent for ")
    assert "the session did not start; try again then" in line
    assert "Traceback" not in done.stdout + done.stderr
    assert not db.exists(), "nothing written"


def test_ctrl_c_while_a_start_waits_for_the_next_minute_ends_it_at_once(tmp_path: Path) -> None:
    """The wait says itself on stdout as it begins; Ctrl+C then stops the start at once (not
    after the half minute), in one line, exit 130, nothing written. The sandbox holds the
    spent minute: however slowly the child starts, it meets it and waits."""
    with running_sandbox(faults="rate_limit=200,rate_hold=1", rate_window_s=30.0) as sb:
        spend_key_minute(sb, LEFT)
        env = cli_env(tmp_path)
        env.update(sandbox_env(sb))
        db = tmp_path / "k.db"
        child = subprocess.Popen(
            [*LIVE_PAPER, "--iterations", "1", "--ignore-market-hours", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert line.startswith("waiting ") and "before starting" in line, line
            child.send_signal(signal.SIGINT)
            asked = time.monotonic()
            _, err = child.communicate(timeout=20)
        finally:
            child.kill()
            child.wait()
    assert time.monotonic() - asked < 10, "the wait ended with the signal"
    assert child.returncode == 130, (child.returncode, err)
    assert err.strip() == "Ctrl+C: stopped while the session started, before its first cycle"
    assert not db.exists(), "nothing written"
