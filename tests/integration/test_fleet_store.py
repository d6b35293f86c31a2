"""The fleet's rows straight from the store: a long-running session is never pushed out of the
listing by the many short sessions started after it."""

from __future__ import annotations

from pathlib import Path

from tui_trader.core.clock import WallClock
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.fleet import MOST, fleet_rows
from tui_trader.store.models import SessionRow, database


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
