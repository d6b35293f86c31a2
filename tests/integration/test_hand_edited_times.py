"""A hand-edited time in the audit database never crashes a read command.

A time column may hold what no session writes: text (``'xyzzy'``), a number (``12345``), a
year beyond the calendar. ``status``, ``fleet`` and ``report`` ended with a crash line on
them ("Invalid isoformat string", "'int' object has no attribute 'tzinfo'", "date value out
of range"), ``pnl`` on the day SQLite makes of a number ('-4679-09-12'). Now such a time counts
as none, with one warning naming the table, row and column.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tests.integration.test_hand_edited_numbers import COMMANDS
from tests.integration.test_hand_edited_numbers import traded as traded  # the fixture


@pytest.mark.parametrize("command", ["status", "fleet", "fleet-json"])
@pytest.mark.parametrize("value", ["'xyzzy'", "12345"], ids=["text", "number"])
def test_a_running_session_whose_heartbeat_is_no_time_is_judged_by_its_start(
    traded: Path, tmp_path: Path, value: str, command: str
) -> None:
    """Liveness reads a running session's last heartbeat: text there ended ``status`` and
    ``fleet`` with a crash line ("Invalid isoformat string"), a number too ("'int' object has
    no attribute 'tzinfo'"). Now the heartbeat counts as none (the session's start stands in)
    with one warning naming the row and column."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute(f"UPDATE sessions SET status = 'running', heartbeat_at = {value}")
    out = run_cli(tmp_path, *COMMANDS[command], "--db", str(db))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "died" in out.stdout.lower(), out.stdout  # its process is gone
    (line,) = out.stderr.strip().splitlines()
    assert re.match(r"tui-trader: warning: sessions row \d+ column heartbeat_at holds ", line)


TIME_COLUMNS = [
    ("live_fills", "market_time"),
    ("live_trades", "entry_time"),
    ("live_trades", "market_time"),
    ("live_account_snapshots", "market_time"),
]
"""Time columns the reports read (the newest row of each is edited)."""


@pytest.mark.parametrize("command", ["report", "report-html", "status", "pnl"])
@pytest.mark.parametrize(("table", "column"), TIME_COLUMNS, ids=[".".join(c) for c in TIME_COLUMNS])
@pytest.mark.parametrize("value", ["'xyzzy'", "12345", "'9999-12-31 23:59:59'"])
def test_a_report_leaves_out_a_row_whose_time_is_no_time(
    traded: Path, tmp_path: Path, value: str, table: str, column: str, command: str
) -> None:
    """A time edited to text or a number ended ``report`` (and ``status``, ``pnl``) with a
    crash line ("Invalid isoformat string", "'int' object has no attribute 'tzinfo'", a day
    of '-4679-09-12'), and a year 9999 ended ``status`` ("date value out of range"). Now
    such a row is left out, with a warning naming its table, row and column."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute(
            f"UPDATE {table} SET {column} = {value} WHERE id = (SELECT MAX(id) FROM {table})"
        )
    out = run_cli(tmp_path, *COMMANDS[command], "--db", str(db))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "crash" not in out.stderr and "Traceback" not in out.stderr
    for line in out.stderr.strip().splitlines():
        assert line.startswith("tui-trader: warning: ") and " row " in line, line
    # reports rebuild round trips from the fills since ``leftovers31``: they read no
    # ``live_trades`` row, so an edit there leaves a report whole, with nothing to warn of
    reads = table != "live_trades"
    if command.startswith("report") and reads and value != "'9999-12-31 23:59:59'":
        assert re.search(rf"warning: {table} row \d+ column {column} holds ", out.stderr)
