"""``live monitor`` on a hand-edited store: no value nobody can read on the dashboard, no crash.

The monitor turned rows into the dashboard's values as it found them: a snapshot's iteration of
``inf`` showed as "iter inf", an equity of ``1e308`` as a 309-digit amount, and a state, side or
time no session writes, or positions that are not JSON, stopped the monitor with a crash. Now
such a row is left out, and the dashboard's event log gets one note naming it.
"""

from __future__ import annotations

import math
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli
from tui_trader.core.domain import IterationReport
from tui_trader.tui.monitor import DbFollower


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An audit database with one paper session that traded (snapshots, orders, fills)."""
    place = tmp_path_factory.mktemp("traded")
    db = place / "a.db"
    out = run_cli(
        place, "paper", "--db", str(db), "--iterations", "80", "--max-drawdown", "50",
        "--max-daily-loss", "50",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return db


def _edited(traded: Path, tmp_path: Path, sql: str) -> tuple[Path, int]:
    """A copy of the store with ``sql`` run on it, and the newest snapshot's id."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute(sql)
        (newest,) = con.execute("SELECT MAX(id) FROM live_account_snapshots").fetchone()
    return db, newest


def _readable(report: IterationReport) -> None:
    """Every figure the dashboard shows from a report is a whole or finite number."""
    assert isinstance(report.iteration, int) and report.iteration >= 0, report.iteration
    for value in (report.cash, report.equity, report.buying_power, report.drawdown_pct,
                  report.daily_pnl, report.realized_pnl):  # fmt: skip
        assert isinstance(value, float) and math.isfinite(value) and abs(value) < 1e15, value
    assert isinstance(report.orders_today, int)
    for p in report.positions:
        assert all(math.isfinite(v) for v in (p.qty, p.avg_entry_price, p.last_price)), p


SNAPSHOT_EDITS = {
    "iteration-inf": ("iteration", "9e999"),
    "iteration-fraction": ("iteration", "1.5"),
    "iteration-text": ("iteration", "'xyzzy'"),
    "equity-1e308": ("equity", "1e308"),
    "cash-inf": ("cash", "-9e999"),
    "day-pnl-text": ("daily_pnl", "'xyzzy'"),
    "state": ("state", "'bogus'"),
    "market-time": ("market_time", "'xyzzy'"),
}


@pytest.mark.parametrize("edit", SNAPSHOT_EDITS, ids=list(SNAPSHOT_EDITS))
def test_the_monitor_leaves_out_a_snapshot_nobody_can_read(
    traded: Path, tmp_path: Path, edit: str
) -> None:
    """The newest snapshot edited by hand: the monitor shows the one before it (never the
    edited value) and says which row and column it left out."""
    column, literal = SNAPSHOT_EDITS[edit]
    db, newest = _edited(
        traded,
        tmp_path,
        f"UPDATE live_account_snapshots SET {column} = {literal} "
        "WHERE id = (SELECT MAX(id) FROM live_account_snapshots)",
    )
    follower = DbFollower(db, "1")
    follower.open()
    reports = follower.poll()
    assert reports, "nothing shown"
    for report in reports:
        _readable(report)
    assert reports[-1].iteration == 79  # the snapshot before the edited one
    (note,) = reports[-1].notes
    assert note.startswith(f"live_account_snapshots row {newest} column {column} holds "), note
    assert follower.poll() == []  # said once


@pytest.mark.parametrize("positions", ["'xyzzy'", "'[1]'", "'[[\"SPY\", 1e999, 2, 3]]'"])
def test_the_monitor_shows_a_snapshot_without_positions_nobody_can_read(
    traded: Path, tmp_path: Path, positions: str
) -> None:
    """Positions that are not what a session writes: the snapshot's figures are shown, the
    positions that cannot be read left out, with a note naming the row."""
    db, newest = _edited(
        traded,
        tmp_path,
        f"UPDATE live_account_snapshots SET positions = {positions} "
        "WHERE id = (SELECT MAX(id) FROM live_account_snapshots)",
    )
    follower = DbFollower(db, "1")
    follower.open()
    reports = follower.poll()
    _readable(reports[-1])
    assert reports[-1].iteration == 80 and reports[-1].positions == ()
    (note,) = reports[-1].notes
    assert note.startswith(f"live_account_snapshots row {newest} column positions holds "), note


ROW_EDITS = {
    "order-side": ("live_orders", "side = 'bogus'", "side"),
    "order-type": ("live_orders", "order_type = 'bogus'", "order_type"),
    "order-qty": ("live_orders", "quantity = 9e999", "quantity"),
    "fill-side": ("live_fills", "side = 'bogus'", "side"),
    "fill-price": ("live_fills", "price = 'xyzzy'", "price"),
    "event-value": (
        "live_risk_events",
        "INSERT INTO live_risk_events (session_id, account_key, timestamp, event_type, value, "
        "\"limit\", action_taken, detail) SELECT 1, account_key, started_at, 'drawdown', "
        "9e999, 5, 'halted trading', '' FROM sessions",
        "value",
    ),
    "risk-state": ("risk_state", "state = 'bogus'", "state"),
    "orders-today": ("risk_state", "orders_today = 1.5", "orders_today"),
}


@pytest.mark.parametrize("edit", ROW_EDITS, ids=list(ROW_EDITS))
def test_the_monitor_leaves_out_an_order_fill_or_event_nobody_can_read(
    traded: Path, tmp_path: Path, edit: str
) -> None:
    """An order, fill, risk event, trade or risk state edited by hand: the monitor goes on
    (on main a side or state of 'bogus' crashed it, an ``inf`` reached the dashboard) and
    names the row and column once."""
    table, change, column = ROW_EDITS[edit]
    sql = change if change.startswith("INSERT") else f"UPDATE {table} SET {change}"
    db, _newest = _edited(traded, tmp_path, sql)
    follower = DbFollower(db, "1")
    follower.open()
    reports = follower.poll()
    assert reports
    for report in reports:
        _readable(report)
    notes = [n for r in reports for n in r.notes]
    assert notes and all(f" column {column} holds " in n for n in notes), notes
    assert all(n.startswith(f"{table} ") for n in notes), notes
