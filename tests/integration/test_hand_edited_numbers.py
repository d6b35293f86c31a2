"""A hand-edited audit database never crashes a read command.

The audit database may be shared and edited by hand. SQLite keeps text in a REAL column and
both databases keep ``inf`` or ``1e308``. Before, ``report`` died of ``OverflowError`` or
``TypeError``, ``status``, ``pnl``, ``fleet`` and ``history`` of a format error on text (exit 1
through the crash log), ``status`` printed ``inf`` and ``fleet --json`` printed ``Infinity``,
which is not JSON. Now each unreadable number is left out or shown as "-" (``null`` in JSON),
with one warning line naming its table, row and column.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.integration.cli_helpers import run_cli

BAD = {"inf": "9e999", "-inf": "-9e999", "text": "'xyzzy'", "1e308": "1e308"}
"""What a hand edit may leave in a number column, as SQL literals."""

COMMANDS = {
    "report": ["report"],
    "report-html": ["report", "--html", "out.html"],
    "status": ["status"],
    "pnl": ["pnl"],
    "fleet": ["fleet"],
    "fleet-json": ["fleet", "--json"],
    "history": ["history"],
    "history-orders": ["history", "--orders"],
    "risk-show": ["risk", "show"],
}


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An audit database with one short paper session (snapshots, orders, fills, trades)."""
    place = tmp_path_factory.mktemp("traded")
    db = place / "a.db"
    out = run_cli(place, "paper", "--db", str(db), "--iterations", "50")
    assert out.returncode == 0, out.stderr
    return db


def _edit(db: Path, literal: str) -> None:
    """Put ``literal`` in the newest snapshot's equity, cash and day PnL, the newest trade's
    PnL, the newest fill's price, the newest order's fill price and the risk state's peak."""
    with sqlite3.connect(db) as con:
        for table, columns in (
            ("live_account_snapshots", ("equity", "cash", "daily_pnl")),
            ("live_trades", ("pnl",)),
            ("live_fills", ("price",)),
            ("live_orders", ("filled_price",)),
        ):
            sets = ", ".join(f"{c} = {literal}" for c in columns)
            con.execute(f"UPDATE {table} SET {sets} WHERE id = (SELECT MAX(id) FROM {table})")
        con.execute(f"UPDATE risk_state SET peak_equity = {literal}")


@pytest.mark.parametrize("command", COMMANDS, ids=list(COMMANDS))
@pytest.mark.parametrize("value", BAD, ids=list(BAD))
def test_a_read_command_shows_an_unreadable_number_and_warns(
    traded: Path, tmp_path: Path, value: str, command: str
) -> None:
    """Exit 0, nothing like inf or NaN on stdout, one warning line per unreadable number that
    names its table and row, no crash report."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    _edit(db, BAD[value])
    out = run_cli(tmp_path, *COMMANDS[command], "--db", str(db))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "crash" not in out.stderr and "Traceback" not in out.stderr
    shown = out.stdout.lower()
    for word in ("inf", "nan", "1e+308", "xyzzy"):
        assert word not in shown.replace("info", ""), (word, out.stdout)
    assert not re.search(r"\d{20}", shown.replace(",", "")), out.stdout  # 1e308 written out
    if command == "fleet-json":
        rows = json.loads(out.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
        assert rows[0]["equity"] is None and rows[0]["day_pnl"] is None
    warnings = out.stderr.strip().splitlines()
    assert warnings, "no warning for the unreadable number"
    for line in warnings:
        assert line.startswith("tui-trader: warning: ") and " row " in line, line
        assert "not a readable number" in line, line


BAD_PARAMETERS = {
    "not-json": "not json{",
    "a-list": "[1, 2]",
    "text-cash": '{"start_cash": "xyzzy"}',
    "inf-cash": '{"start_cash": 1e999}',
}
"""What a hand edit may leave in a session's stored parameters (a JSON object when written)."""


@pytest.mark.parametrize("command", ["report", "pnl", "status", "history", "fleet"])
@pytest.mark.parametrize("parameters", BAD_PARAMETERS, ids=list(BAD_PARAMETERS))
def test_a_read_command_survives_hand_edited_session_parameters(
    traded: Path, tmp_path: Path, parameters: str, command: str
) -> None:
    """The stored parameters only give a session's starting cash to the reports: anything else
    there reads as none given (the first snapshot's equity stands in). On main, ``pnl`` died of
    a JSONDecodeError or an AttributeError (exit 1 through the crash log)."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET parameters = ?", (BAD_PARAMETERS[parameters],))
    out = run_cli(tmp_path, command, "--db", str(db))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "crash" not in out.stderr and "Traceback" not in out.stderr
    assert "xyzzy" not in out.stdout and "inf" not in out.stdout.lower().replace("info", "")


@pytest.mark.parametrize("parameters", BAD_PARAMETERS, ids=list(BAD_PARAMETERS))
def test_the_monitor_follows_a_session_with_hand_edited_parameters(
    traded: Path, tmp_path: Path, parameters: str
) -> None:
    """``live monitor`` reads the limits and starting cash it shows from the parameters: the
    defaults stand in for what cannot be read, not a stopped monitor."""
    from tui_trader.tui.monitor import DbFollower

    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET parameters = ?", (BAD_PARAMETERS[parameters],))
    info = DbFollower(db, "1").open()
    assert info.start_cash > 0 and info.max_drawdown_pct > 0


@pytest.mark.parametrize(
    ("table", "column"),
    [("learning_weights", "weight"), ("learning_shadow", "net_return")],
)
@pytest.mark.parametrize("bad", ["inf", "text"])
def test_a_session_refuses_to_start_from_hand_edited_learning(
    traded: Path, tmp_path: Path, table: str, column: str, bad: str
) -> None:
    """The next session on the database continues its learning: the strategy weights that size
    every position. A weight of ``inf`` made them NaN, and the session crashed after its first
    cycle ("IntegrityError: NOT NULL constraint failed", exit 1); text crashed its start
    ("TypeError"). Now it refuses before trading, naming the row, as for the risk state."""
    db = tmp_path / "a.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE {table} SET {column} = {BAD[bad]}")
    out = run_cli(tmp_path, "paper", "--db", str(db), "--iterations", "3")
    assert out.returncode == 2 and out.stdout == "", out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert re.search(
        rf"{table} row \d+ column {column} holds .*not a readable number; refusing", out.stderr
    ), out.stderr


@pytest.mark.parametrize("bad", ["inf", "text"])
def test_the_paper_to_live_gate_refuses_a_hand_edited_record(
    traded: Path, tmp_path: Path, bad: str
) -> None:
    """The gate to real money read the record raw: an equity edited to ``inf`` counted as a
    profit of +inf (``PnL +inf``, enough for any ``--min-pnl``), and text ended ``live
    readiness`` (and ``live trading``'s gate) with a crash line. Now one line naming the row."""
    db = tmp_path / "a.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE live_account_snapshots SET equity = {BAD[bad]}")
    out = run_cli(tmp_path, "live", "readiness", "--db", str(db))
    assert out.returncode == 2 and "inf" not in out.stdout, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert re.search(
        r"live_account_snapshots row \d+ column equity holds .*not a readable number; refusing",
        out.stderr,
    ), out.stderr


INTEGER_COLUMNS = {
    "sessions": ("pid", "proc_start", "iterations"),
    "live_account_snapshots": ("iteration", "fills_through"),
    "live_orders": ("iteration",),
}
"""Whole-number columns the read commands meet (the session is made to look running, so the
fleet asks after its process)."""


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "risk-show"])
@pytest.mark.parametrize("value", ["inf", "text", "1.5"])
def test_a_read_command_survives_a_hand_edited_whole_number(
    traded: Path, tmp_path: Path, value: str, command: str
) -> None:
    """Text or ``inf`` in an integer column: peewee's ``int()`` raised ``OverflowError`` on
    ``inf`` as it built the row (every read command ended with a crash line), and ``fleet``
    died of ``int('xyzzy')`` asking the kernel after a running session's process. Now the
    value is shown as unreadable, with a warning naming the row and column. A fraction
    (``1.5``, which SQLite keeps in an integer column) was rounded by peewee's ``int()``: the
    fleet showed pid 1, a number the row does not hold; now it is unreadable too."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE sessions SET status = 'running'")
        for table, columns in INTEGER_COLUMNS.items():
            sets = ", ".join(f"{c} = {BAD.get(value, value)}" for c in columns)
            con.execute(f"UPDATE {table} SET {sets}")
    out = run_cli(tmp_path, *COMMANDS[command], "--db", str(db))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "crash" not in out.stderr and "Traceback" not in out.stderr
    assert "xyzzy" not in out.stdout and "inf" not in out.stdout.lower().replace("info", "")
    for line in out.stderr.strip().splitlines():
        assert line.startswith("tui-trader: warning: ") and " row " in line, line
    if command.startswith("fleet"):
        assert re.search(r"sessions row \d+ column pid holds .*not a process id", out.stderr)


@pytest.mark.parametrize("value", ["inf", "text", "1.5"])
def test_risk_show_names_a_hand_edited_order_count(
    traded: Path, tmp_path: Path, value: str
) -> None:
    """``risk show`` printed "orders today inf" (or the text), and crashed on ``inf`` before
    that, and "orders today 1" for 1.5 (peewee's ``int()`` rounded it); now "-" and a warning
    naming the account's row."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute(f"UPDATE risk_state SET orders_today = {BAD.get(value, value)}")
    out = run_cli(tmp_path, "risk", "show", "--db", str(db))
    assert out.returncode == 0 and "orders today - " in out.stdout, out.stdout + out.stderr
    assert "risk_state row local:" in out.stderr and "column orders_today" in out.stderr


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("learning_shadow", "bars"),
        ("learning_weights", "iteration"),
        ("learning_weights", "session_id"),
    ],
)
@pytest.mark.parametrize("value", ["inf", "text", "-2", "1.5"])
def test_a_session_refuses_learning_whose_counts_nobody_can_read(
    traded: Path, tmp_path: Path, table: str, column: str, value: str
) -> None:
    """The learning a session continues is found by the last cycle's session and iteration,
    and each record counts its bars: text there ended the first cycle with a crash line
    (``'xyzzy' + 1``), ``inf`` the start (``OverflowError``), and ``1.5`` was read as 1 (the
    learning of another session or cycle continued without a word). The session refuses to
    start, one line naming the row, as for an unreadable weight."""
    db = tmp_path / "a.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE {table} SET {column} = {BAD.get(value, value)}")
    out = run_cli(tmp_path, "paper", "--db", str(db), "--iterations", "3")
    assert out.returncode == 2 and out.stdout == "", out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert re.search(
        rf"{table} row \d+ column {column} holds .*not a count from 0 up; refusing", out.stderr
    ), out.stderr


@pytest.mark.parametrize("value", ["'xyzzy'", "x'626f78ff00'"], ids=["text", "blob"])
def test_pnl_leaves_out_a_row_whose_time_is_no_date(
    traded: Path, tmp_path: Path, value: str
) -> None:
    """``pnl`` groups by the day of each row's bar time: text or binary data there gave the
    day ``None`` and the command ended with a crash line ("Invalid isoformat string:
    'None'"). The rows are left out, each named in a warning, and the days still shown (the
    realized PnL from the account's fills: ``answer32``)."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        for table in ("live_fills", "live_account_snapshots"):
            con.execute(
                f"UPDATE {table} SET market_time = {value} WHERE id = (SELECT MAX(id) FROM {table})"
            )
    out = run_cli(tmp_path, "pnl", "--db", str(db))
    assert out.returncode == 0 and "total" in out.stdout, out.stdout + out.stderr
    for table, says in (("live_fills", "holds .*, not a time"), ("live_account_snapshots", "")):
        says = says or "holds no readable date"
        assert re.search(rf"warning: {table} row \d+ column market_time {says}", out.stderr), (
            out.stderr
        )


@pytest.mark.parametrize("value", ["inf", "text", "1.5"])
def test_reconciliation_refuses_a_snapshot_whose_fill_mark_nobody_can_read(
    traded: Path, tmp_path: Path, value: str
) -> None:
    """Start-up reconciliation adds the fills recorded after the account's last snapshot
    (``fills_through``: the newest fill it counted). ``inf`` there crashed the start
    (``OverflowError``); text was compared with fill ids as text, counting fills wrongly
    without a word; 1.5 read as 1 (every fill after the first counted again). Now the start
    refuses, naming the row."""
    from tui_trader.store.db import open_database
    from tui_trader.store.lost_rows import last_snapshot
    from tui_trader.store.models import SessionRow
    from tui_trader.store.stored_numbers import UnreadableValue

    db = tmp_path / "a.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE live_account_snapshots SET fills_through = {BAD.get(value, value)}")
    store = open_database(db)
    try:
        account = SessionRow.get().account_key
        with pytest.raises(UnreadableValue, match=r"row \d+ column fills_through holds"):
            last_snapshot(account, None)
    finally:
        store.close()


BAD_POSITIONS = {
    "not-json": "'xyzzy'",
    "a-number": "'[1]'",
    "inf-qty": "'[[\"SPY\", 1e999, 2, 3]]'",
}
"""What a hand edit may leave in a snapshot's positions (a JSON list of four-field lists)."""


@pytest.mark.parametrize("positions", BAD_POSITIONS.values(), ids=list(BAD_POSITIONS))
def test_status_leaves_out_positions_nobody_can_read(
    traded: Path, tmp_path: Path, positions: str
) -> None:
    """``status`` lists the last snapshot's positions: text that is not JSON ended it with a
    crash line (``JSONDecodeError``), a list of numbers too ("cannot unpack non-iterable
    int"). Now the positions that cannot be read are left out, with a warning naming the row."""
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute(f"UPDATE live_account_snapshots SET positions = {positions}")
    out = run_cli(tmp_path, "status", "--db", str(db))
    assert out.returncode == 0 and "no open positions" in out.stdout, out.stdout + out.stderr
    assert "crash" not in out.stderr and "Traceback" not in out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert re.match(
        r"tui-trader: warning: live_account_snapshots row \d+ column positions holds ", line
    ), line


@pytest.mark.parametrize("positions", BAD_POSITIONS.values(), ids=list(BAD_POSITIONS))
def test_reconciliation_refuses_a_snapshot_whose_positions_nobody_can_read(
    traded: Path, tmp_path: Path, positions: str
) -> None:
    """Start-up reconciliation compares the broker's positions with the account's last
    snapshot: positions nobody can read crashed the start (``JSONDecodeError``) or reached
    it as ``inf`` shares. Now the start refuses, naming the row."""
    from tui_trader.store.db import open_database
    from tui_trader.store.lost_rows import last_snapshot
    from tui_trader.store.models import SessionRow
    from tui_trader.store.stored_numbers import UnreadableValue

    db = tmp_path / "a.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"UPDATE live_account_snapshots SET positions = {positions}")
    store = open_database(db)
    try:
        account = SessionRow.get().account_key
        with pytest.raises(UnreadableValue, match=r"row \d+ column positions holds"):
            last_snapshot(account, None)
    finally:
        store.close()


RISK_EDITS = {
    "fraction": ("orders_today", "1.5"),
    "state": ("state", "'bogus'"),
    "day": ("day", "'yesterday'"),
    "halt-id": ("halt_id", "'x'"),
}


@pytest.mark.parametrize("edit", RISK_EDITS, ids=list(RISK_EDITS))
def test_status_shows_a_risk_state_nobody_can_read_and_the_rest(
    traded: Path, tmp_path: Path, edit: str
) -> None:
    """``status`` is a display: a hand-edited risk state stopped it (exit 2, nothing of the
    account shown) as if it were a session's start. Now it shows the snapshot and positions,
    "risk: -" and one warning naming the row and column (a session still refuses to start)."""
    column, literal = RISK_EDITS[edit]
    db = tmp_path / "edited.db"
    shutil.copy(traded, db)
    with sqlite3.connect(db) as con:
        con.execute(f"UPDATE risk_state SET {column} = {literal}")
    out = run_cli(tmp_path, "status", "--db", str(db))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "equity" in out.stdout and "risk: - " in out.stdout, out.stdout
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("tui-trader: warning: risk_state row local:"), line
    assert f"column {column} holds " in line and "left out of what is shown" in line, line
