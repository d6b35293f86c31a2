"""Two desks on one machine and one SQLite file, their wall clocks ten minutes apart.

A session started at once records the dead local sessions on the store ``died`` and cancels
their orders; a session recorded died while running stops at its next heartbeat. Liveness was
the heartbeat's wall-clock age alone, so a desk started with its clock ten minutes ahead (a
clock step, a process under libfaketime) found the healthy desk beside it "dead" and stopped
it; a desk whose clock ran ten minutes behind wrote heartbeats that looked ten minutes old and
was stopped by the next desk started with the right time. On one machine the kernel now says
whether the very process still runs, and heartbeats age on the boot clock, the same for both.

The stepped clock is real: the desk runs with libfaketime preloaded (Debian's ``faketime``,
installed by ``.ci/run``); its monotonic clock is left alone (``FAKETIME_DONT_FAKE_MONOTONIC``),
as a wall-clock step leaves it, and as Python's timed waits need.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.integration.cli_helpers import cli_env

DEADLINE = 60.0
"""How long a wait on a child may take on a loaded two-core machine."""
LIBFAKETIME = next(
    (str(p) for d in ("/usr/lib", "/usr/local/lib") for p in Path(d).glob("**/libfaketime.so.1")),
    None,
)
"""libfaketime, preloaded into the desk itself (the ``faketime`` wrapper would stand between
the test and the desk's process, and catch its Ctrl+C)."""
STEP = "10m"
"""How far the stepped desk's wall clock is from the other's."""


def _env(tmp_path: Path, offset: str | None) -> dict[str, str]:
    """A desk's environment, its wall clock ``offset`` (``+10m``) by libfaketime, which fakes
    the wall clock only."""
    env = cli_env(tmp_path) | {"PYTHONUNBUFFERED": "1"}
    if offset is None:
        return env
    assert LIBFAKETIME, "libfaketime is not installed (apt-get install faketime; .ci/run does)"
    return env | {
        "LD_PRELOAD": LIBFAKETIME,
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


def _desk(*args: str) -> list[str]:
    """The command line of ``tui-trader ARGS``."""
    return [sys.executable, "-m", "tui_trader", *args]


def _row(db: Path, sql: str, *args: object) -> tuple | None:
    """The first row of ``sql``, read with a connection of our own (``None`` before the
    tables exist)."""
    if not db.exists():
        return None
    try:
        with sqlite3.connect(db, timeout=10) as con:
            return con.execute(sql, args).fetchone()
    except sqlite3.OperationalError:
        return None


def _wait_for(what: str, check, child: subprocess.Popen[bytes]) -> None:
    """Poll ``check`` until true, failing at the deadline or if ``child`` ended."""
    deadline = time.monotonic() + DEADLINE
    pause = threading.Event()
    while not check():
        assert child.poll() is None, f"the first desk ended while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.05)


_STARTS_APART = (
    "SELECT (julianday(b.started_at) - julianday(a.started_at)) * 86400 FROM sessions a, "
    "sessions b WHERE a.id = 1 AND b.id = 2"
)
"""Seconds from the first desk's start to the second's, each by its own wall clock."""


def _cycles(db: Path) -> int:
    """The cycles the first desk's row says it ran (written with its heartbeats)."""
    row = _row(db, "SELECT iterations FROM sessions ORDER BY id LIMIT 1")
    return int(row[0]) if row else -1


@pytest.mark.parametrize(
    ("first", "second"),
    [(None, f"+{STEP}"), (f"-{STEP}", None)],
    ids=["second-desk-clock-ahead", "first-desk-clock-behind"],
)
def test_a_desk_with_a_stepped_clock_never_records_a_healthy_desk_died(
    tmp_path: Path, first: str | None, second: str | None
) -> None:
    """The first desk trades; a second ``paper`` starts on the same file, one of the two with
    its wall clock ten minutes off. The second records nothing died, the first's row stays
    ``running`` with no order canceled for a death, and the first keeps trading until it is
    stopped with Ctrl+C, ending as a stopped session, not a dead one."""
    db = tmp_path / "audit.db"
    out, err = tmp_path / "first.out", tmp_path / "first.err"
    args = ("paper", "--iterations", "0", "--every", "0.2", "--db", str(db))
    with out.open("wb") as stdout, err.open("wb") as stderr:
        desk = subprocess.Popen(
            _desk(*args),
            stdout=stdout,
            stderr=stderr,
            env=_env(tmp_path, first),
            cwd=tmp_path,
        )
    try:
        _wait_for("the first desk's cycles", lambda: _cycles(db) >= 2, desk)
        other = subprocess.run(
            _desk("paper", "--iterations", "1", "--db", str(db)),
            capture_output=True,
            text=True,
            env=_env(tmp_path, second),
            cwd=tmp_path,
            timeout=DEADLINE,
        )
        assert other.returncode == 0, other.stderr
        assert "died" not in other.stdout, other.stdout
        ((apart,),) = [_row(db, _STARTS_APART)]
        assert apart > 9 * 60, (
            f"the clocks were not {STEP} apart (the second started {apart} s later)"
        )
        assert _row(db, "SELECT status FROM sessions ORDER BY id LIMIT 1") == ("running",)
        after = _cycles(db)
        _wait_for("the first desk to go on trading", lambda: _cycles(db) >= after + 5, desk)
        desk.send_signal(signal.SIGINT)
        desk.wait(timeout=DEADLINE)
    finally:
        if desk.poll() is None:
            desk.kill()
            desk.wait(timeout=30)
    assert desk.returncode == 0, err.read_text()
    assert "recorded died" not in err.read_text()
    (status,) = _row(db, "SELECT status FROM sessions ORDER BY id LIMIT 1") or ("?",)
    assert status not in ("running", "died", "failed"), status
    assert _row(db, "SELECT COUNT(*) FROM live_orders WHERE error LIKE '%session died%'") == (0,)
