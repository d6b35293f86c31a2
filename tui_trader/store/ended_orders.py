"""Taking over an ended session's order row while another session of the account runs.

``engine.ended_orders`` records the late fill of an order a session of this store left working
when it ended. Two desks of the account may look the same order up at once; only the one whose
update finds the row as it read it records the fill (a compare-and-set in the row's own
transaction: on PostgreSQL the second waits for the first's row lock, then finds the row
changed), so a fill is never recorded twice.
"""

from __future__ import annotations

from tui_trader.core.orders import Order
from tui_trader.store.account_reads import OPEN_STATUSES, OpenOrderRow, open_order_row
from tui_trader.store.db import to_db_time
from tui_trader.store.models import LiveOrder, SessionRow


def ended_open_rows(account_key: str, session_id: int | None, symbol: str) -> list[OpenOrderRow]:
    """The rows in ``symbol`` that the database still thinks are open, of this account's
    sessions whose row says they ended (stopped, completed, failed, died). A session whose row
    still says ``running`` is not touched, even with a stale heartbeat: only start-up
    reconciliation records such a session ``died`` (a desk merely slow under load would be
    ended by a session that runs beside it)."""
    query = (
        LiveOrder.select(LiveOrder)
        .join(SessionRow)
        .where(
            (SessionRow.account_key == account_key)
            & (SessionRow.status != "running")
            & (SessionRow.id != (session_id or -1))
            & (LiveOrder.symbol == symbol)
            & LiveOrder.status.in_(OPEN_STATUSES)
        )
        .order_by(LiveOrder.id)
    )
    return [open_order_row(o) for o in query]


def take_ended_row(row: OpenOrderRow, order: Order, now: object) -> bool:
    """Bring ``row`` to the broker's ``order`` if it still records what was read (its status
    and filled quantity) and its session has still ended; True if this update made the change
    (its fill is this caller's to record), False if another session got there first. A row a
    live desk took over since it was read (a desk with exits takes an ended desk's stop) is that
    desk's: it records the fill from its own stream, and a second record here counted the fill
    twice (``crash28b``: 34 shares recorded for a 17-share exit)."""
    ended = SessionRow.select(SessionRow.id).where(SessionRow.status != "running")
    changed = (
        LiveOrder.update(
            status=order.row_status,
            filled_qty=order.filled_qty,
            filled_price=order.filled_avg_price,
            updated_at=to_db_time(now),  # type: ignore[arg-type]
        )
        .where(
            (LiveOrder.client_order_id == row.client_order_id)
            & (LiveOrder.status == row.status)
            & (LiveOrder.filled_qty == row.filled_qty)
            & LiveOrder.session.in_(ended)
        )
        .execute()
    )
    return changed == 1
