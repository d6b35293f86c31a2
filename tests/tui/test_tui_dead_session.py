"""The desk tells, once, what a new session found on the store: a local session that died
without ending, its working orders now recorded ended (``store.dead_local``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.widgets import Static
from tui_helpers import capped_desk, start_capped, wait_for

from tui_trader.core.clock import WallClock
from tui_trader.core.orders import OrderRequest, Side
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database, to_db_time
from tui_trader.store.models import LiveOrder, SessionRow

BARS = 3


async def test_starting_a_desk_tells_of_a_dead_local_session_s_ended_orders(db_path, paced) -> None:
    """A local session on another machine stopped beating ten minutes ago with a buy working:
    the desk's new session records the buy ended and says so in one notice."""
    audit = AuditLog(open_database(db_path), WallClock())
    dead = audit.start_session("local", "paper", None, "t", ("SPY",), {})
    audit.order_pending(OrderRequest("SPY", Side.BUY, 5, f"tt-{dead.key}-1-SPY-r"), 1, None)
    LiveOrder.update(status="new").execute()
    stale = to_db_time(datetime.now(UTC) - timedelta(minutes=10))
    SessionRow.update(heartbeat_at=stale, host="desk-b", pid=4242).where(
        SessionRow.id == dead.id
    ).execute()
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await start_capped(pilot, app, BARS)
        [notice] = [n for n in app._notifications if n.title == "Earlier session"]
        assert notice.message.startswith(f"local session {dead.key} died (pid 4242 on desk-b")
        assert "1 working order(s) recorded canceled" in notice.message
        app.handle.stop()
    assert LiveOrder.get(LiveOrder.session == dead.id).status == "canceled"


async def test_a_desk_recorded_died_while_suspended_halts_and_says_why(db_path, paced) -> None:
    """The desk's own session is recorded ``died`` by another start (as after a closed lid):
    at its next heartbeat it stops, shows the HALTED banner with the reason in plain words,
    and the row stays ``died``."""
    app = capped_desk(db_path, paced, BARS)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await start_capped(pilot, app, BARS)
        row = SessionRow.get(SessionRow.status == "running")
        SessionRow.update(status="died").where(SessionRow.id == row.id).execute()
        banner = app.screen.query_one("#halt-banner", Static)
        await wait_for(pilot, lambda: app.halted and banner.display, "the halt banner")
        assert not app.running
        assert app.last_error.startswith(f"this session ({row.key}) was recorded died")
        [notice] = [n for n in app._notifications if n.title == "Session error"]
        assert "it stops now and sends no more orders" in notice.message
    assert SessionRow.get_by_id(row.id).status == "died"
