"""Machines whose clocks disagree, on one PostgreSQL store.

A session's liveness is its heartbeat's age. With one store for several machines, a desk whose
clock runs behind the others (no NTP, a laptop back from sleep) wrote heartbeats that looked
minutes old to every other machine: it was shown as ``died`` while it traded, and a desk
starting elsewhere took over its open orders as those of a dead session, recording their fills
a second time. The server's clock is the one every machine now reads and writes by.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import make_session
from tui_trader.core.orders import OrderRequest, Side
from tui_trader.store import session_rows
from tui_trader.store.fleet import fleet_rows
from tui_trader.store.liveness import is_alive
from tui_trader.store.models import SessionRow
from tui_trader.store.pg_url import parse_db_url

BEHIND = timedelta(minutes=10)


def test_a_desk_whose_clock_runs_behind_is_alive_to_every_other_machine(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = parse_db_url(pg_url)
    with monkeypatch.context() as behind:  # machine B, its clock 10 minutes behind
        behind.setattr(session_rows, "_wall_now", lambda: datetime.now(UTC) - BEHIND)
        slow = make_session(store, account_key="alpaca:shared")
        slow.audit.beat(force=True)
        request = OrderRequest("SPY", Side.BUY, 10, client_order_id="tt-slow-1-SPY-r")
        slow.audit.order_pending(request, 1, datetime.now(UTC))
        slow.audit.flush()
    # machine A reads with the right time
    row = SessionRow.get_by_id(slow.audit.session.id)
    assert is_alive(row)
    assert [r.state for r in fleet_rows() if r.session_id == row.id] == ["running"]
    other = make_session(store, account_key="alpaca:shared")  # a desk starting on A
    assert other.audit.live_sessions_order_ids("alpaca:shared") == {"tt-slow-1-SPY-r"}
    assert "tt-slow-1-SPY-r" not in {
        r.client_order_id for r in other.audit.open_orders_of_account("alpaca:shared")
    }
