"""A ``live paper`` desk whose machine's clock jumps mid-run, as a real process: it says so,
holds new orders while the clock is off (its sales of what it holds still go) and resumes
once it is back.

The child's wall clock is moved by a ``sitecustomize`` on its ``PYTHONPATH`` (as
``test_clock_off_store``) that adds the seconds a file holds to ``time.time``, read again when
the file changes: the test steps the clock while the desk runs. The server's clock and the
boot clock stay true, as a real step leaves them. Before, the desk traded on without a word
(``store.clock_watch``).
"""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import ROOT, cli_env
from tests.pg_cluster import PgCluster
from tui_trader.sandbox.testing import SandboxHandle

SHIFT = """
import os, time
_real, _path, _seen = time.time, os.environ["TT_TEST_SHIFT"], [None, 0.0]
def _shifted():
    try:
        stamp = os.stat(_path).st_mtime_ns
        if stamp != _seen[0]:
            with open(_path) as f:
                _seen[:] = [stamp, float(f.read() or 0)]
    except (OSError, ValueError):
        pass
    return _real() + _seen[1]
time.time = _shifted
"""
DEADLINE = 90.0
"""Seconds a wait on the child may take on a loaded two-core machine."""


def _rows(db: Path | str, pg: PgCluster | None, sql: str) -> list[tuple[Any, ...]]:
    """``sql``'s rows, read from the desk's store (a SQLite file or a PostgreSQL database)."""
    if pg is not None:
        try:
            return pg.rows(str(db).rsplit("/", 1)[1], sql)
        except Exception:  # the tables are being made
            return []
    if not Path(db).exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return list(conn.execute(sql))
        except sqlite3.OperationalError:  # the tables are being made
            return []


def _number(db: Path | str, pg: PgCluster | None, sql: str) -> int:
    """The one number ``sql`` reads, 0 before the store has its tables."""
    rows = _rows(db, pg, sql)
    return int(rows[0][0]) if rows else 0


def _until(what: str, found: Any) -> Any:
    """Wait for ``found()`` to be truthy (checked every 0.1 s) within ``DEADLINE``."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        answer = found()
        if answer:
            return answer
        time.sleep(0.1)
    raise AssertionError(f"waited {DEADLINE:.0f} s for {what}")


def _events(db: Path | str, pg: PgCluster | None) -> list[str]:
    return [
        r[0]
        for r in _rows(
            db, pg, "SELECT event_type FROM live_risk_events WHERE event_type LIKE 'clock%' "
            "ORDER BY id",
        )
    ]  # fmt: skip


def test_a_desk_process_whose_clock_jumps_holds_new_orders_and_resumes(
    pumped: SandboxHandle, shared_db: Path | str, tmp_path: Path, request: Any
) -> None:
    pg = request.getfixturevalue("pg_cluster") if isinstance(shared_db, str) else None
    shifted = tmp_path / "shifted"
    shifted.mkdir()
    (shifted / "sitecustomize.py").write_text(SHIFT)
    shift = tmp_path / "shift"
    shift.write_text("0")
    env = cli_env(tmp_path) | sandbox_env(pumped)
    env |= {"PYTHONPATH": f"{shifted}:{ROOT}", "TT_TEST_SHIFT": str(shift)}
    env |= {"PYTHONUNBUFFERED": "1"}
    import subprocess
    import sys

    args = ["live", "paper", "--iterations", "0", "--every", "0.05", "--period", "1d"]
    args += [*FAST_BUDGET, "--timeout", "2", "--db", str(shared_db)]
    desk = subprocess.Popen(
        [sys.executable, "-m", "tui_trader", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        cycles = "SELECT coalesce(max(iterations), 0) FROM sessions"
        _until("the desk's first cycles", lambda: _number(shared_db, pg, cycles) >= 3)
        shift.write_text("-240")  # the clock steps four minutes back
        _until("the clock's hold", lambda: _events(shared_db, pg) == ["clock_off"])
        last_order = _number(shared_db, pg, "SELECT coalesce(max(id), 0) FROM live_orders")
        held_at = _number(shared_db, pg, cycles)
        _until("ten cycles held", lambda: _number(shared_db, pg, cycles) >= held_at + 10)
        buys = f"SELECT count(*) FROM live_orders WHERE id > {last_order} AND side = 'buy'"
        assert _number(shared_db, pg, buys) == 0, "bought while the clock was off"
        shift.write_text("0")  # set right again
        _until("the resume", lambda: _events(shared_db, pg) == ["clock_off", "clock_agrees"])
    finally:
        desk.send_signal(signal.SIGINT)
        out, err = desk.communicate(timeout=DEADLINE)
    assert desk.returncode == 0, out[-2000:] + err[-2000:]
    assert "Traceback" not in out + err
    way = "behind the PostgreSQL store's" if pg is not None else "stepped 240 s back"
    assert "note: no new orders: this machine's clock" in out and way in out, out[-3000:]
    assert "clock_off: -240 s off (limit 5 s) -> no new orders" in out, out[-3000:]
    assert "clock_agrees:" in out
