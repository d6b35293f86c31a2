"""The audit database's file deleted or replaced under a running session.

A SQLite session keeps its file open: deleted (``rm desk.db*``), with another file moved over
its path, or with its write-ahead log deleted, what it writes goes where nobody can read it.
Before, the session traded on, writing its orders' rows (and any halt) there, while ``fleet
halt``, ``risk`` and other sessions on the path used the new file it never read. Now it stops at
its next heartbeat, before the cycle's orders, in one plain line (``store.file_identity``).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alpaca_helpers import alpaca_session, run_steps, sandbox_orders
from tui_trader.cli import main
from tui_trader.core.orders import Side
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.engine.records import SessionRecords
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import SandboxHandle
from tui_trader.store.models import database
from tui_trader.store.session_rows import RowEnded


def _delete(path: Path) -> None:
    """What ``rm desk.db*`` does."""
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        name.unlink(missing_ok=True)


def _delete_log(path: Path) -> None:
    """The write-ahead log alone deleted (it may hold everything since the file was made)."""
    Path(f"{path}-wal").unlink()


def _delete_index(path: Path) -> None:
    """The log's shared-memory index alone deleted: the next process to open the file would
    build a second one beside the session's."""
    Path(f"{path}-shm").unlink()


def _replace(path: Path) -> None:
    """Another (valid) copy of the database moved over the path, as a restore by hand does."""
    other = path.with_name("other.db")
    src, dst = sqlite3.connect(path), sqlite3.connect(other)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    os.replace(other, path)


@pytest.mark.parametrize(
    ("fault", "what"),
    [
        (_delete, "was deleted"),
        (_replace, "was replaced by another file"),
        (_delete_log, "lost its write-ahead log ({path}-wal deleted or replaced)"),
        (_delete_index, "lost its log's index ({path}-shm deleted or replaced)"),
    ],
)
def test_a_local_session_stops_when_its_database_file_is_deleted_or_replaced(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fault: Any,
    what: str,
) -> None:
    """Before: all 40 cycles ran and the session said it completed, into a file (or a log)
    gone from the path (with the index deleted too: completed, exit 0)."""
    path = tmp_path / "audit.db"
    snapshot = SessionRecords._snapshot

    def fault_after_three(self: TradingSession, *args: object) -> None:
        """The file goes once the third cycle's snapshot is written."""
        snapshot(self, *args)
        if self.iteration == 3:
            fault(path)

    monkeypatch.setattr(SessionRecords, "_snapshot", fault_after_three)
    try:
        code = main(["paper", "--iterations", "40", "--db", str(path)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    database.obj.close()
    assert code == 1
    lost = {
        _delete_log: "what this session wrote since the last checkpoint went with that log",
        _delete_index: "its rows are whole, but another process opening the file now would "
        "index the log anew, and two indexes of one log corrupt the file",
    }.get(fault, "what this session wrote is in the old file, not at that path")
    assert err == (
        f"tui-trader: error: the audit database {path} {what.format(path=path)} while the "
        f"session ran: trading stopped, no order sent without its row; {lost} (start the "
        "session again to go on)\n"
    )
    assert "Traceback" not in out + err
    assert "Session failed: 3 iterations" in out
    assert not any(line.startswith("iter=4 ") for line in out.splitlines())


def test_an_alpaca_session_sends_no_order_once_its_database_file_is_deleted(
    sandbox: SandboxHandle, trading: Any, tmp_path: Path
) -> None:
    """Before: the manual order reached the broker, its row only in the deleted file."""
    path = tmp_path / "audit.db"
    session = alpaca_session(sandbox, path)
    try:
        run_steps(sandbox, session, 2)
        before = len(sandbox_orders(trading))
        _delete(path)
        session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=10))
        with pytest.raises(RowEnded, match=f"the audit database {path} was deleted"):
            session.apply_kill_requests()
        assert len(sandbox_orders(trading)) == before
        assert not path.exists()
    finally:
        session.broker.close()
        database.obj.close()
