"""A command that ran a session leaves one database file, whole on its own.

SQLite keeps recent transactions in a write-ahead log (``-wal``) beside the database until the
last connection closes. ``paper`` never closed its connection, so the run's last rows stayed in
that log after the command ended: a copy of the database file alone (to another machine, or a
backup by hand) lacked them, down to the session's own ending.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli


def _ended_sessions_and_orders(db: Path) -> tuple[list[str], int]:
    """The sessions' statuses and the order count, read from ``db`` alone."""
    con = sqlite3.connect(db)
    try:
        statuses = [row[0] for row in con.execute("SELECT status FROM sessions ORDER BY id")]
        orders = con.execute("SELECT COUNT(*) FROM live_orders").fetchone()[0]
    finally:
        con.close()
    return statuses, orders


@pytest.mark.parametrize("batch", [False, True], ids=["cycles", "batch"])
def test_the_database_file_alone_holds_the_whole_run(tmp_path: Path, batch: bool) -> None:
    """After ``paper`` (cycle by cycle, or a batch replay) no log is left beside the file, and
    a copy of the file alone holds the ended session and its orders."""
    db = tmp_path / "desk.db"
    args = ["paper", "--db", str(db), "--iterations", "40"]
    if batch:
        bars = tmp_path / "bars.csv"
        lines = ["timestamp,symbol,open,high,low,close,volume"]
        for day in range(1, 200):
            price = 100 + (day % 17) - (day % 5) * 0.5
            lines.append(f"{_day(day)}T00:00:00Z,SPY,{price},{price + 1},{price - 1},{price},1000")
        bars.write_text("\n".join(lines) + "\n")
        args = ["paper", "--db", str(db), "--data", f"replay:{bars}", "--interval", "1d"]
        args += ["--iterations", "0", "--batch"]
    out = run_cli(tmp_path, *args)
    assert out.returncode == 0, out.stderr
    assert not Path(f"{db}-wal").exists(), "the write-ahead log outlived the command"
    alone = tmp_path / "copy" / "desk.db"
    alone.parent.mkdir()
    shutil.copyfile(db, alone)
    statuses, orders = _ended_sessions_and_orders(alone)
    assert statuses and statuses[-1] in {"completed", "end_of_data"}
    assert orders > 0, "the session traded"


def _day(n: int) -> str:
    """The n-th day after 2023-12-31 as YYYY-MM-DD."""
    return (date(2023, 12, 31) + timedelta(days=n)).isoformat()
