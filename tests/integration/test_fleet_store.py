"""The fleet's rows straight from the store: a long-running session is never pushed out of the
listing by the many short sessions started after it."""

from __future__ import annotations

import threading
from pathlib import Path

from tui_trader.core.clock import WallClock
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.fleet import MOST, fleet_rows
from tui_trader.store.models import SessionRow, database
from tui_trader.store.pg_url import parse_db_url
from tui_trader.tui.dbaccess import ensure_database


def test_a_running_session_stays_listed_after_many_newer_ones(tmp_path: Path) -> None:
    """One session still running, then more than ``MOST`` that ended: it is listed, first."""
    audit = AuditLog(open_database(tmp_path / "fleet.db"), WallClock())
    try:
        old = audit.start_session("live", "alpaca", None, "test", ("SPY",), {}).key
        keys = [
            audit.start_session("local", "paper", None, "test", ("SPY",), {}).key
            for _ in range(MOST + 5)
        ]
        SessionRow.update(status="completed").where(SessionRow.key.in_(keys)).execute()
        rows = fleet_rows()
    finally:
        database.close()
    assert rows[0].key == old and rows[0].state == "running"
    assert len(rows) == MOST + 1


def test_a_screen_read_keeps_the_session_on_its_own_connection(pg_url: str) -> None:
    """The desk runs a session on a PostgreSQL store while the Fleet screen (or any screen)
    reads the same URL from a worker thread: the session's open transaction keeps seeing its
    own rows, because the screen reuses the binding instead of opening and rebinding another
    database under it (the session's queries then went to a new connection, its transaction
    split in two)."""
    url = parse_db_url(pg_url)
    db = open_database(url)
    audit = AuditLog(db, WallClock())
    try:
        with db.atomic():
            key = audit.start_session("local", "paper", None, "test", ("SPY",), {}).key
            read = threading.Thread(target=lambda: ensure_database(url).close())
            read.start()
            read.join(timeout=30)
            assert database.obj is db, "the screen rebound the session's database"
            assert SessionRow.select().where(SessionRow.key == key).count() == 1
    finally:
        database.close()
