"""Running the real command line in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose data, cache and log folders live under ``tmp_path``."""
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(ROOT),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        COLUMNS="200",
        NO_COLOR="1",
    )
    for name in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY", "APCA_API_BASE_URL"):
        env.pop(name, None)
    return env


def run_cli(
    tmp_path: Path,
    *args: str,
    stdin: str | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tui_trader ARGS`` to completion (``env``: variables set on top of the
    test's own environment, e.g. a sandbox's credentials)."""
    return subprocess.run(
        [sys.executable, "-m", "tui_trader", *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path) | (env or {}),
        cwd=tmp_path,
        input=stdin,
        timeout=timeout,
    )


def seeded_paper_db(tmp: Path) -> Path:
    """``tmp/desk.db`` after a seeded local ``paper`` run of 80 cycles (limits wide enough that
    it trades on: trades, orders and adaptive weights' long rationales), for the commands that
    read a database."""
    path = tmp / "desk.db"
    done = run_cli(
        tmp, "paper", "--iterations", "80", "--db", str(path), "--max-drawdown", "50",
        "--max-daily-loss", "50",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


def start_cli(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """Start ``python -m tui_trader ARGS`` in the background, line-buffered."""
    env = cli_env(tmp_path)
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def start_live_paper(tmp_path: Path, env: dict[str, str], db: Path) -> subprocess.Popen[str]:
    """Start ``live paper`` for ever (a cycle every 0.05 s, 1 day of warm-up, no wait for the
    desk's request budget: ``FAST_BUDGET``) on the Alpaca named by ``env`` (the sandbox's), in
    the background, unbuffered."""
    from tests.integration.alpaca_helpers import FAST_BUDGET

    args = ["live", "paper", "--iterations", "0", "--every", "0.05", "--period", "1d"]
    args += FAST_BUDGET
    return subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args, "--timeout", "2", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=cli_env(tmp_path) | env | {"PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )


def start_cli_on_terminal(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python -m tui_trader ARGS`` with a pseudo-terminal as its standard input (what a
    question needs to be asked at all); the process and the terminal's end to type into (close
    it when done)."""
    import pty

    master, slave = pty.openpty()
    env = cli_env(tmp_path)
    env["PYTHONFAULTHANDLER"] = "1"  # ``stuck_at`` asks a hung one for its stack (SIGABRT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    os.close(slave)
    return proc, master


def stuck_at(proc: subprocess.Popen[bytes]) -> str:
    """Where a command that did not end is stuck, for the failure's message: its signal state
    (blocked, ignored, caught, pending to the thread and to the process) and every thread's
    Python stack, which it prints when aborted (``start_cli_on_terminal`` starts it with the
    fault handler on); it is ended."""
    import signal

    try:
        with open(f"/proc/{proc.pid}/status") as status:
            state = " ".join(line.strip() for line in status if line.startswith(("Sig", "ShdPnd")))
    except OSError:
        state = "(no /proc status)"
    proc.send_signal(signal.SIGABRT)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return f"{state}\n{err.decode(errors='replace')[-3000:]}"


def read_until(proc: subprocess.Popen[bytes], marker: bytes, timeout: float = 60) -> bytes:
    """What ``proc`` printed up to and including ``marker`` (a question's prompt), polling with
    a deadline; fails if it ends or the deadline passes first."""
    import select
    import time

    shown, deadline = b"", time.monotonic() + timeout
    assert proc.stdout is not None
    while marker not in shown:
        assert time.monotonic() < deadline, f"no question: {shown!r}"
        if select.select([proc.stdout], [], [], 0.5)[0]:
            chunk = os.read(proc.stdout.fileno(), 4096)
            assert chunk, f"ended without asking: {shown!r}"
            shown += chunk
    return shown
