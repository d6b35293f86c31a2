"""An ended session's stop is taken over by one session only: its row moves by compare-and-set
(``store.stop_rows``), on SQLite and PostgreSQL; a session still beating keeps its stop."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import age_heartbeat
from tui_trader.core.clock import WallClock
from tui_trader.core.orders import OrderRequest, OrderType, Side, TimeInForce
from tui_trader.store.audit import AuditLog
from tui_trader.store.db import open_database
from tui_trader.store.models import LiveOrder, SessionRow
from tui_trader.store.pg_url import PgUrl
from tui_trader.store.stop_rows import stop_rows, take_stop_row

ACCOUNT = "alpaca:paper:test"


def _desk(audit: AuditLog) -> SessionRow:
    """A live-paper session row on the account."""
    return audit.start_session("paper", "alpaca-paper", None, "alpaca", ("SPY",), {}, ACCOUNT)


def test_of_two_desks_that_read_an_ended_desks_stop_one_takes_it(store: Path | PgUrl) -> None:
    audit = AuditLog(open_database(store), WallClock())
    ended = _desk(audit)
    cid = f"tt-{ended.key}-2-SPY-ps1"
    stop = OrderRequest(
        "SPY", Side.SELL, 20, cid, OrderType.STOP, None, TimeInForce.GTC, stop_price=95.0
    )
    audit.order_pending(stop, 2, None)
    age_heartbeat(ended.id, 600)  # killed: its row still says running
    two = AuditLog(open_database(store), WallClock())
    two_row = _desk(two)
    three_row = _desk(AuditLog(open_database(store), WallClock()))
    seen = stop_rows(ACCOUNT, [cid])[cid]
    assert not seen.alive and stop_rows("alpaca:paper:other", [cid]) == {}
    now = datetime.now(UTC)
    assert take_stop_row(seen, two_row.id, "kept by desk two", now)
    assert not take_stop_row(seen, three_row.id, "kept by desk three", now)  # a stale read
    row = LiveOrder.get(LiveOrder.client_order_id == cid)
    assert row.session_id == two_row.id
    assert row.rationale.endswith(
        f"; taken over from session {ended.key.split('_')[0]}: kept by desk two"
    )
    assert SessionRow.get_by_id(ended.id).status == "died"  # it stops should it wake


def test_a_desk_that_beat_since_keeps_its_stop(db_path: Path) -> None:
    """Read as dead, it beat before the take (a desk slow under load, not dead): its stop
    stays its own."""
    audit = AuditLog(open_database(db_path), WallClock())
    slow = _desk(audit)
    cid = f"tt-{slow.key}-2-SPY-ps1"
    audit.order_pending(
        OrderRequest("SPY", Side.SELL, 5, cid, OrderType.STOP, stop_price=9.0), 2, None
    )
    age_heartbeat(slow.id, 600)
    seen = stop_rows(ACCOUNT, [cid])[cid]
    age_heartbeat(slow.id, 0)  # its heartbeat again
    other = _desk(AuditLog(open_database(db_path), WallClock()))
    assert not take_stop_row(seen, other.id, "kept by another desk", datetime.now(UTC))
    assert LiveOrder.get(LiveOrder.client_order_id == cid).session_id == slow.id
    assert SessionRow.get_by_id(slow.id).status == "running"
