"""Running the real ``tui-trader`` in child processes for the reliability suite.

A ``Child`` is one ``python -m tui_trader ...`` process with its output going to files (so a
chatty child can never block on a full pipe); the suite waits on what it prints or writes to the
database, kills it with SIGKILL at a chosen moment, and starts the next one. ``Pump`` moves a
sandbox's market one bar at a time with seeded swings, so that sessions keep wanting to trade.
Every wait is a condition with a deadline (``wait_until``), never a fixed sleep.
"""

from __future__ import annotations

import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import cli_env
from tui_trader.sandbox.testing import SandboxHandle, make_fast, wait_until

SYMBOLS = ("SPY", "QQQ", "IWM")
START_DEADLINE = 60.0
"""Seconds a child may take to print its first cycle (imports and warm-up on a busy machine)."""


class Child:
    """One ``tui-trader`` process, its stdout and stderr in files under its working folder."""

    def __init__(self, folder: Path, name: str, args: list[str], env: dict[str, str]) -> None:
        """Start ``python -m tui_trader ARGS`` in ``folder``; ``name`` names its output files."""
        self.name = name
        self.out_path = folder / f"{name}.out"
        self.err_path = folder / f"{name}.err"
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "tui_trader", *args],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=env | {"PYTHONUNBUFFERED": "1"},
                cwd=folder,
            )
        self.killed = False

    def output(self) -> str:
        """Everything it printed so far (stdout)."""
        return self.out_path.read_text(errors="replace")

    def errors(self) -> str:
        """Everything it wrote to stderr so far."""
        return self.err_path.read_text(errors="replace")

    def cycles(self) -> int:
        """Decision cycles it has reported (``iter=`` lines)."""
        return sum(1 for line in self.output().splitlines() if line.startswith("iter="))

    def alive(self) -> bool:
        """Still running."""
        return self.popen.poll() is None

    def wait_cycles(self, n: int, timeout: float = START_DEADLINE) -> None:
        """Wait until it has reported ``n`` cycles (fails at once if it exited first)."""

        def reached() -> bool:
            if self.cycles() >= n:
                return True
            if not self.alive():
                raise AssertionError(f"{self.name} exited early:\n{self.tail()}")
            return False

        wait_until(reached, timeout, f"{self.name} to report {n} cycles")

    def kill9(self) -> None:
        """SIGKILL, then reap it."""
        if self.alive():
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        self.killed = True

    def finish(self, timeout: float = 90.0) -> int:
        """Wait for it to exit on its own; its exit code (killed and failed on a timeout)."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise AssertionError(
                f"{self.name} did not finish in {timeout} s:\n{self.tail()}"
            ) from None

    def tail(self, lines: int = 15) -> str:
        """The last lines of stdout and stderr, for failure messages."""
        out = "\n".join(self.output().splitlines()[-lines:])
        err = "\n".join(self.errors().splitlines()[-lines:])
        return f"--- stdout\n{out}\n--- stderr\n{err}"


def local_env(folder: Path) -> dict[str, str]:
    """The environment of a local child: data, cache and logs under ``folder``."""
    return cli_env(folder)


def sandbox_child_env(folder: Path, sb: SandboxHandle, rest_url: str = "") -> dict[str, str]:
    """The environment of a child trading on the sandbox (the variables it tells users to set);
    ``rest_url`` replaces the REST origin (the suite's proxy in front of the sandbox)."""
    env = cli_env(folder) | sandbox_env(sb)
    if rest_url:
        env["APCA_API_BASE_URL"] = rest_url
    return env


def live_args(
    db: Path,
    iterations: int,
    *extra: str,
    every: float = 0.05,
    weights: str = "momentum",
    budget: tuple[str, ...] = FAST_BUDGET,
) -> list[str]:
    """``live paper`` on the sandbox, fast: 1m bars, a day of warm-up, a 3 s deadline (enough
    on a loaded machine, short enough for hanging requests), a strategy that trades often, and
    no wait for the desk's request budget (``FAST_BUDGET``: the sandboxes of the trials have no
    rate limit unless a fault switch sets one; ``budget=()`` keeps the desk's 180 a minute)."""
    return [
        "live",
        "paper",
        "--db",
        str(db),
        "--iterations",
        str(iterations),
        "--every",
        str(every),
        "--period",
        "1d",
        "--timeout",
        "3",
        "--weights",
        weights,
        *budget,
        *extra,
    ]


class Pump:
    """Steps a paused sandbox's market in a thread: one bar every ``every`` seconds, with seeded
    swings (a slow wave plus noise) so that the momentum strategy keeps changing its mind."""

    def __init__(self, sb: SandboxHandle, seed: int, every: float = 0.04, amp: float = 0.8):
        """Pump ``sb``'s market; ``amp`` is the size of a bar's move in percent."""
        self.sb = sb
        self.rng = random.Random(seed)
        self.every = every
        self.amp = amp
        self.bars = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.shocks: list[dict[str, float]] = []
        """Extra one-off shocks (percent) applied on the next bars, in order."""
        self._lock = threading.Lock()

    def shock(self, moves: dict[str, float]) -> None:
        """Apply ``moves`` (percent per symbol) with the next bar."""
        with self._lock:
            self.shocks.append(moves)

    def _run(self) -> None:
        """Step until stopped."""
        while not self._stop.wait(self.every):
            self.bars += 1
            wave = self.amp * math.sin(self.bars / 3.0)
            moves = {s: wave + self.rng.uniform(-0.1, 0.1) for s in SYMBOLS}
            with self._lock:
                if self.shocks:
                    extra = self.shocks.pop(0)
                    moves = {s: moves[s] + extra.get(s, 0.0) for s in SYMBOLS}
            try:
                self.sb.admin.step(shock=moves)
            except (OSError, RuntimeError):
                if self._stop.is_set():
                    return
                raise

    def __enter__(self) -> Pump:
        """Start stepping."""
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        """Stop stepping."""
        self._stop.set()
        self._thread.join(timeout=10)


def query(db: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the audit database, read while other processes may be writing."""
    if not db.exists():
        return []
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    finally:
        con.close()


def latest_session(db: Path) -> tuple[int, str] | None:
    """(id, key) of the newest session row, or None."""
    rows = query(db, "SELECT id, key FROM sessions ORDER BY id DESC LIMIT 1")
    return (rows[0][0], rows[0][1]) if rows else None


def trading_client(sb: SandboxHandle) -> Any:
    """alpaca-py's TradingClient straight to the sandbox (short timeout, no retry waits)."""
    from alpaca.trading.client import TradingClient

    return make_fast(TradingClient(sb.key_id, sb.secret, paper=True, url_override=sb.base_url))


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """``wait_until`` under the suite's name (a condition and a deadline, never a fixed sleep)."""
    return wait_until(check, timeout, what)


def wait_until_or(check: Callable[[], Any], seconds: float) -> bool:
    """Poll ``check`` until it holds or ``seconds`` pass (a time box, not a failure): whether
    it held."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while time.monotonic() < deadline:
        if check():
            return True
        pause.wait(0.01)
    return bool(check())


def side_by_side(*jobs: Callable[[], Any]) -> list[Any]:
    """Run ``jobs`` in threads at once (their children overlap); their results, in order.

    Most of a trial is waiting on child processes, so trials with their own sandbox, account
    and database run side by side to keep the suite short; any failure is raised here.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]
