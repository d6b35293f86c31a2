"""An audit database that cannot be written: locked by another program, or read-only.

Another program (a ``sqlite3`` shell left in a transaction, a backup tool) can hold SQLite's
write lock past the 10 s every write waits for; a file, its folder or its file system can be
(or become) read-only. A session cannot write its audit trail then, so it must stop sending
orders; it says so in one plain line and ends in a known state. Before, it printed
``OperationalError: database is locked`` (or ``attempt to write a readonly database``) and
pointed at crash.log. SQLite's ``query_only`` gives the same error a read-only file does (the
tests run as root, whom file modes do not stop).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import file_rows
from tests.integration.alpaca_helpers import alpaca_session
from tests.integration.lock_helpers import paper_under_a_held_lock
from tui_trader.cli import main
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.session.alpaca import AlpacaSetupError
from tui_trader.store import db as store_db
from tui_trader.store.db import open_database
from tui_trader.store.models import database


def test_a_lock_held_past_the_busy_timeout_stops_the_session_in_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.db"
    open_database(path).close()
    code, taken = paper_under_a_held_lock(path, monkeypatch)
    out, err = capsys.readouterr()
    database.obj.close()
    assert taken
    assert code == 1
    assert err == (
        f"tui-trader: error: the audit database {path} stayed locked by another program "
        "for more than 0.3 s: trading stopped, no order sent without its row\n"
    )
    assert "OperationalError" not in out + err and "Traceback" not in out + err
    assert "Session failed" in out
    assert file_rows(path, "SELECT status FROM sessions") == [("failed",)]
    halts = file_rows(path, "SELECT event_type, detail FROM live_risk_events")
    assert halts == [("session_error", err.removeprefix("tui-trader: error: ").strip())]
    assert file_rows(path, "PRAGMA integrity_check") == [("ok",)]


def test_a_read_only_database_is_refused_at_start_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.db"
    open_database(path).close()
    before = path.read_bytes()
    monkeypatch.setitem(store_db._PRAGMAS, "query_only", 1)
    try:
        code = main(["paper", "--iterations", "3", "--db", str(path)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    database.obj.close()
    assert code == 2
    assert err == (
        f"tui-trader: error: cannot write the audit database {path}: it is read-only (the "
        "file's or its folder's permissions, or a read-only file system)\n"
    )
    assert "OperationalError" not in out + err
    assert path.read_bytes() == before


def test_a_database_turned_read_only_mid_session_stops_it_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.db"
    snapshot = SessionRecords._snapshot

    def turn_read_only_after_three(self: TradingSession, *args: object) -> None:
        """The file system turns read-only once the third cycle's snapshot is written."""
        snapshot(self, *args)
        if self.iteration == 3:
            self.audit.db.execute_sql("PRAGMA query_only = 1")

    monkeypatch.setattr(SessionRecords, "_snapshot", turn_read_only_after_three)
    try:
        code = main(["paper", "--iterations", "50", "--db", str(path)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    database.obj.close()
    assert code == 1
    assert err == (
        f"tui-trader: error: the audit database {path} became read-only (the file's or its "
        "folder's permissions, or a read-only file system): trading stopped, no order sent "
        "without its row\n"
    )
    assert "OperationalError" not in out + err and "Traceback" not in out + err
    assert "Session failed" in out
    # The third cycle's commit writes the session's guarded heartbeat (a local cycle commits
    # only while its row says running): that write fails, and the cycle rolls back whole.
    assert file_rows(path, "SELECT COUNT(*) FROM live_account_snapshots") == [(2,)]
    assert file_rows(path, "PRAGMA integrity_check") == [("ok",)]


def test_a_live_session_on_a_read_only_database_is_refused_before_it_trades(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.db"
    open_database(path).close()
    monkeypatch.setitem(store_db._PRAGMAS, "query_only", 1)
    with pytest.raises(AlpacaSetupError) as refused:
        alpaca_session(sandbox, path)
    database.obj.close()
    assert str(refused.value) == (
        f"cannot write the audit database {path}: it is read-only (the file's or its "
        "folder's permissions, or a read-only file system)"
    )
    assert trading.get_orders() == []
    assert file_rows(path, "SELECT COUNT(*) FROM sessions") == [(0,)]


def test_risk_reset_on_a_read_only_database_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.db"
    assert main(["paper", "--iterations", "2", "--db", str(path)]) == 0
    database.obj.close()
    capsys.readouterr()
    before = path.read_bytes()
    monkeypatch.setitem(store_db._PRAGMAS, "query_only", 1)
    try:
        code = main(["risk", "reset", "--yes", "--db", str(path)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    _, err = capsys.readouterr()
    database.obj.close()
    assert code == 2
    assert err == (
        f"tui-trader: error: cannot write the audit database {path}: it is read-only (the "
        "file's or its folder's permissions, or a read-only file system); nothing was changed\n"
    )
    assert path.read_bytes() == before
