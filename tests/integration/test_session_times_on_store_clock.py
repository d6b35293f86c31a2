"""A desk's start and end are written on the clock its heartbeats are: the store's on PostgreSQL.

Other desks compare a session's ``started_at``, ``ended_at`` and ``heartbeat_at`` with each
other: start-up's search for lost order rows (``store.lost_rows.last_run_began``) counts an
earlier desk part of the last run when it was last seen (its end, else its heartbeat) after the
newest earlier desk started. Heartbeats were stamped on the server's clock, the start and end on
the desk's own. A desk whose clock jumped back 10 minutes mid-run wrote its end 10 minutes
before its last heartbeat (and before a desk started beside it): it no longer counted as
running then, so the search began at the later desk's start and missed the first desk's orders
of the 20 minutes before. Now both are the server's time on PostgreSQL; a SQLite store (one
machine) keeps the session's own clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tui_trader.core.clock import WallClock
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import from_db_time, open_database, to_db_time
from tui_trader.store.liveness import store_now
from tui_trader.store.lost_rows import CLOCK_MARGIN, last_run_began
from tui_trader.store.models import SessionRow
from tui_trader.store.pg_url import parse_db_url

ACCOUNT = "alpaca:paper:PA123"


def _desk(db: object) -> AuditLog:
    """A desk's audit log on the account, its session started."""
    audit = AuditLog(db, WallClock(), commit_before_send=True)  # type: ignore[arg-type]
    audit.start_session("paper", "alpaca", None, "test", ("SPY",), {}, account_key=ACCOUNT)
    return audit


def test_a_desk_whose_clock_jumped_back_is_still_counted_in_the_last_run(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(parse_db_url(pg_url), durable=True)
    try:
        first = _desk(db)
        assert first.session is not None
        began = store_now(db) - timedelta(minutes=20)  # it has run 20 minutes
        SessionRow.update(started_at=to_db_time(began)).where(
            SessionRow.id == first.session.id
        ).execute()
        second = _desk(db)  # started beside it
        jumped = WallClock.now
        monkeypatch.setattr(WallClock, "now", lambda self: jumped(self) - timedelta(minutes=10))
        first.beat(force=True)
        first.end_session("stopped", 10)
        row = SessionRow.get_by_id(first.session.id)
        ended, beat = from_db_time(row.ended_at), from_db_time(row.heartbeat_at)
        assert ended is not None and beat is not None
        assert abs((ended - beat).total_seconds()) < 5, (ended, beat)
        later = _desk(db)
        assert later.session is not None
        found = last_run_began(ACCOUNT, later.session.id)
        assert found is not None
        assert abs((found - (began - CLOCK_MARGIN)).total_seconds()) < 1, (found, began)
        assert second.session is not None
    finally:
        db.close()
