"""A local paper session run while another connection holds its SQLite file's write lock.

Both the session that gives up on a file locked by another program and the one that names the
frozen desk holding it need the same staging: a session trading every 10 ms, a second
connection that takes the write lock after the session's third cycle and keeps it past the busy
timeout (shortened to 0.3 s), and the lock let go once the session has given up on its cycle, so
that its last writes (the failed status) find the file free.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import file_rows
from tui_trader.cli import main
from tui_trader.core.domain import RiskEvent
from tui_trader.engine.session import TradingSession
from tui_trader.sandbox.testing import wait_until
from tui_trader.store import db as store_db


def paper_under_a_held_lock(
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    before_lock: Callable[[sqlite3.Connection], None] = lambda _conn: None,
) -> tuple[int, bool]:
    """Run ``paper`` on ``path`` while the lock is held as above (``before_lock`` runs on the
    holding connection just before it takes the lock); the exit code, and whether the lock
    was taken at all."""
    monkeypatch.setitem(store_db._PRAGMAS, "busy_timeout", 300)  # 10 s in real use
    released, taken, let_go = threading.Event(), threading.Event(), threading.Event()

    def hog() -> None:
        """After the session's third cycle, hold the write lock until told."""
        conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        try:
            wait_until(
                lambda: any(n >= 3 for (n,) in file_rows(path, "SELECT iterations FROM sessions")),
                60,
                "the session's third cycle",
            )
            before_lock(conn)
            conn.execute("BEGIN IMMEDIATE")
            taken.set()
            released.wait(60)
            conn.execute("ROLLBACK")
        finally:
            let_go.set()
            conn.close()

    told = TradingSession.tell_unrecorded

    def tell_then_wait(self: TradingSession, event: RiskEvent) -> None:
        """The session has given up on the cycle (and tells its alerts): the lock is let go
        now, so that the session's last write finds the file free."""
        told(self, event)
        released.set()
        let_go.wait(10)

    monkeypatch.setattr(TradingSession, "tell_unrecorded", tell_then_wait)
    thread = threading.Thread(target=hog, daemon=True)
    thread.start()
    try:
        code = main(["paper", "--iterations", "100000", "--every", "0.01", "--db", str(path)])
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        released.set()
        thread.join(10)
    return code, taken.is_set()
