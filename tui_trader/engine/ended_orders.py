"""Late fills of orders that this store's ended sessions left working, seen by a session that
still runs on the account.

A desk that stops with its order still working (a partial fill's rest, a limit not reached)
leaves it at the broker; its fills come when no session follows that order. Start-up
reconciliation records them at the next start. A session already running on the same account
saw the position move with no fill of its own and no other live session on the account, and
called it a change made outside ("left alone"): it never traded the symbol again that session,
though the shares were this store's desk's, its order's row still open. Before a difference is
called a change made outside, the session now looks up at the broker the still-open rows of
this store's ended sessions in that symbol (``record_ended_fills``) and records their fills
against their own rows, as reconciliation does; the difference is then compared with what the
account's recorded fills make (``engine.outside_changes``). A trade by hand is in no row: it is
still said and left alone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tui_trader.brokers import Broker
from tui_trader.core.order_views import is_stale
from tui_trader.core.orders import PENDING_CANCEL, OrderStatus
from tui_trader.engine.reconcile import as_recorded, missed_fill
from tui_trader.store.audit import AuditLog
from tui_trader.store.ended_orders import ended_open_rows, take_ended_row


def record_ended_fills(
    broker: Broker, audit: AuditLog, account_key: str, symbol: str, now: datetime
) -> int:
    """Bring the still-open rows of this store's ended sessions in ``symbol`` on the account
    (their rows say so: ``store.ended_orders.ended_open_rows``) up to the broker's state,
    recording what filled since (each fill with its row, in one commit); the number of fills
    recorded. An order the broker does not know, or answers behind its row, is left to the
    next start's reconciliation."""
    recorded = 0
    session_id = audit.session.id if audit.session else None
    for row in ended_open_rows(account_key, session_id, symbol):
        current = broker.get_order(row.client_order_id)
        if current is None:
            continue
        if row.status == PENDING_CANCEL and not current.status.is_final:
            current = replace(current, status=OrderStatus.CANCELED, cancel_pending=True)
        if is_stale(current, as_recorded(row, current)):
            continue
        fill = missed_fill(row, current)
        if fill is None and current.row_status == row.status:
            continue
        with audit.together():
            if take_ended_row(row, current, now) and fill is not None:
                recorded += int(audit.fill(fill, fill.timestamp))
    return recorded
