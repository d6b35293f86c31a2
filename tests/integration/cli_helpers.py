"""Running the real command line in a child process, as a user would."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _days_calendar() -> tuple[str, str] | None:
    """The day's exchange-calendar file as ``ExchangeCalendar.cached`` writes it (its name and
    text), built once in this test process; ``None`` when nothing is cached (no library
    version to key it by)."""
    import tempfile

    from tui_trader.market import calendar as cal
    from tui_trader.market.cache_dir import CACHE_ENV

    with tempfile.TemporaryDirectory() as folder:
        before = os.environ.get(CACHE_ENV)
        os.environ[CACHE_ENV] = folder
        try:
            cal.ExchangeCalendar.cached("XNYS")
        finally:
            if before is None:
                os.environ.pop(CACHE_ENV, None)
            else:
                os.environ[CACHE_ENV] = before
        found = sorted(Path(folder, "calendar").glob("XNYS-*.json"))
        return (found[0].name, found[0].read_text()) if found else None


def seed_calendar(cache_home: Path) -> None:
    """Put the day's exchange-calendar file in the user cache folder under ``cache_home`` (an
    ``XDG_CACHE_HOME``), as the first ``tui-trader`` process of the day leaves it for the
    others: each child a test starts has a fresh cache folder, and a ``status`` or an Alpaca
    session built the calendar from exchange-calendars again, pandas and all (~0.75 s of CPU
    of a ``status``'s ~1 s, ~100 such children in a run). The build and the file's checks keep
    their own tests (``test_calendar_cache``, with a cache folder of their own); a child whose
    day differs (a run across midnight, a shifted clock) finds the file stale and builds."""
    from tui_trader.security.private_files import replace_privately

    calendar = _days_calendar()
    if calendar is None:
        return
    folder = cache_home / "tui-trader" / "calendar"
    with contextlib.suppress(OSError):  # a test's own cache folder that is a file, say
        if not (folder / calendar[0]).exists():
            folder.mkdir(parents=True, exist_ok=True)
            replace_privately(folder / calendar[0], calendar[1])


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
    seed_calendar(tmp_path / "cache")
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
