"""The account's risk state, hand-edited beyond its equities, is refused in one line.

``test_hand_edited_risk_state`` covers the equities. The other columns went through or crashed:
``orders_today = -50`` let the day's order limit of 100 pass 150 orders; a day left without its
opening equity switched the daily-loss limit off for that day; a ``halt_id`` of text crashed the
cycle that halts; a state of ``'HALTED'`` or a day of ``'yesterday'`` stopped ``live paper`` and
``risk reset`` with a crash report (exit 1). Now each is one line naming the row and column,
exit 2, before any order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.alpaca_helpers import FAST_BUDGET, sandbox_env
from tests.integration.cli_helpers import run_cli
from tui_trader.sandbox.shapes import ACCOUNT_NUMBER
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import database

ACCOUNT = f"alpaca:{ACCOUNT_NUMBER}"
EDITS = {
    "state": "state = 'HALTED'",
    "day": "day = 'yesterday'",
    "day_open_equity": "day_open_equity = NULL",
    "orders_today": "orders_today = -50",
    "halt_id": "halt_id = 'x'",
}


def _edited(tmp_path: Path, edit: str) -> Path:
    """A store whose account row a session wrote (an order counted, a day begun), then
    edited by hand with ``edit``."""
    db = tmp_path / "desk.db"
    session = make_session(db, account_key=ACCOUNT)
    session.run_iteration()
    session.finish("stopped")
    database.obj.close()
    with sqlite3.connect(db) as con:
        assert con.execute(f"UPDATE risk_state SET {edit}").rowcount == 1
    return db


def _one_line_naming(out: object, column: str) -> None:
    """Exit 2 and a single stderr line naming the row and the column."""
    assert out.returncode == 2, out.stdout + out.stderr  # type: ignore[attr-defined]
    lines = out.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, out.stderr  # type: ignore[attr-defined]
    assert f"risk_state row {ACCOUNT} column {column}" in lines[0], lines[0]
    assert "refusing" in lines[0] and "Traceback" not in lines[0]


@pytest.mark.parametrize("column", EDITS)
def test_a_session_refuses_to_start_on_a_hand_edited_risk_state(
    sandbox: SandboxHandle, tmp_path: Path, column: str
) -> None:
    """``live paper`` on the account: one line, exit 2, no order at the broker."""
    db = _edited(tmp_path, EDITS[column])
    orders = sandbox.admin.state()["orders"]["total"]
    args = ("live", "paper", "--iterations", "3", "--every", "0.1", "--period", "1d")
    out = run_cli(
        tmp_path,
        *args,
        *FAST_BUDGET,
        "--db",
        str(db),
        stdin="",
        timeout=120,
        env=sandbox_env(sandbox),
    )
    _one_line_naming(out, column)
    assert sandbox.admin.state()["orders"]["total"] == orders


@pytest.mark.parametrize("column", EDITS)
def test_risk_reset_refuses_a_hand_edited_risk_state(tmp_path: Path, column: str) -> None:
    """``risk reset``: one line, exit 2; the row is left as it was."""
    db = _edited(tmp_path, EDITS[column])
    with sqlite3.connect(db) as con:
        before = con.execute("SELECT * FROM risk_state").fetchall()
    out = run_cli(tmp_path, "risk", "reset", "--yes", "--db", str(db), "--account", ACCOUNT)
    _one_line_naming(out, column)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT * FROM risk_state").fetchall() == before


class _OtherProcess:
    """Another process's connection to the store, as ``risk_store`` calls it (autocommit)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=10, isolation_level=None)

    def raw(self, sql: str, params: object = ()) -> sqlite3.Cursor:
        """Run one statement."""
        return self.conn.execute(sql, params)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "limit"), [("'xyzzy'", 100), ("2.5", 100), ("'xyzzy'", 1)])
def test_an_order_slot_is_refused_on_a_count_edited_mid_session(
    tmp_path: Path, value: str, limit: int
) -> None:
    """Every order of a running session takes one of the account's slots in one statement
    (``reserve_order_slot``), reading the count back. A count edited by hand while the session
    ran: text ended the cycle with a bare ``ValueError`` (``int('xyzzy')``), and 2.5 came back
    as 3 after the order, rounded. Now the statement refuses, naming the row and column, and
    the session stops on that line."""
    from tui_trader.store.risk_store import reserve_order_slot
    from tui_trader.store.stored_numbers import UnreadableValue

    db = tmp_path / "desk.db"
    session = make_session(db, account_key=ACCOUNT)
    session.run_iteration()
    day = session.risk.state.day
    assert day is not None
    session.finish("stopped")
    database.obj.close()
    other = _OtherProcess(db)
    other.raw(f"UPDATE risk_state SET orders_today = {value}")
    with pytest.raises(UnreadableValue, match=rf"risk_state row {ACCOUNT} column orders_today"):
        reserve_order_slot(other, ACCOUNT, day, limit)  # type: ignore[arg-type]
    other.conn.close()
