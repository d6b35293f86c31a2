"""What a session reads of its account's other sessions at start-up: their open orders, the
orders of those still running, the account's last recorded positions.

A mixin of ``AuditLog`` (it needs the log's ``db`` and ``session``): start-up reconciliation
(``engine.reconcile``) reads these to find what an earlier run left open or in doubt, and to
leave alone what a session still alive on the account is following.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui_trader.core.domain import Position
from tui_trader.core.orders import PENDING_CANCEL
from tui_trader.store.db import from_db_time
from tui_trader.store.liveness import DIED, is_alive, store_now
from tui_trader.store.models import AccountSnapshot, LiveOrder, SessionRow
from tui_trader.store.stored_positions import required_positions


@dataclass(frozen=True, slots=True)
class OpenOrderRow:
    """An order an earlier run left open (or in doubt), as the database remembers it."""

    client_order_id: str
    symbol: str
    side: str
    quantity: float
    order_type: str
    status: str
    filled_qty: float
    filled_price: float | None
    written_at: datetime | None = None
    """When the row was written (just before the order was sent): the settlement window's start."""
    error: str = ""
    """The row's reason or note (``replaced by <client id>`` for an order a replace ended)."""


OPEN_STATUSES = ("pending_new", "new", "partially_filled", "unknown", PENDING_CANCEL)


def open_order_row(o: LiveOrder) -> OpenOrderRow:
    """An order row as an ``OpenOrderRow``."""
    return OpenOrderRow(
        o.client_order_id,
        o.symbol,
        o.side,
        o.quantity,
        o.order_type,
        o.status,
        o.filled_qty,
        o.filled_price,
        from_db_time(o.timestamp),
        o.error or "",
    )


def record_died(row: SessionRow) -> bool:
    """Record ``row``, a session dead by its heartbeat, ``died`` (ended at its last heartbeat),
    only if it has not beaten since it was read; True if that took (it stops if it wakes:
    ``RowEnded``)."""
    seen = row.heartbeat_at
    fresh = SessionRow.heartbeat_at.is_null() if seen is None else SessionRow.heartbeat_at <= seen
    ended = seen if seen is not None else row.started_at
    took = (
        SessionRow.update(status=DIED, ended_at=ended)
        .where((SessionRow.id == row.id) & (SessionRow.status == "running") & fresh)
        .execute()
    )
    return bool(took)


class AccountReads:
    """The account-wide reads of ``AuditLog``."""

    db: Any
    session: SessionRow | None

    def recorded_fills(self, client_order_id: str) -> tuple[float, float]:
        """The shares this store's fills of an order add up to, whoever recorded them, and
        what they cost (quantity times price): where a fill another desk heard differently
        starts (``SessionRecords._unrecorded_rest``)."""
        cursor = self.db.execute_sql(
            'SELECT COALESCE(SUM(f."quantity"), 0), COALESCE(SUM(f."quantity" * f."price"), 0) '
            'FROM "live_fills" f JOIN "live_orders" o ON f."order_id" = o."id" '
            'WHERE o."client_order_id" = ?',
            (client_order_id,),
        )
        qty, notional = cursor.fetchone()
        return float(qty), float(notional)

    def open_orders_of_account(self, account_key: str) -> list[OpenOrderRow]:
        """Orders of earlier sessions on this account that the database still thinks are open.

        Only sessions that ended or died: the rows of a session still alive on this account
        (another process, heartbeat fresh) are that session's to keep up to date. A session
        dead by its heartbeat whose row still says ``running`` (its process frozen: SIGSTOP,
        a suspended laptop, a hang) is recorded ``died`` first (``record_died``), and its orders
        are taken over only if that write took: when it wakes, its next heartbeat finds its
        row ended and it stops (``RowEnded``) before recording or sending anything. Before,
        it woke and went on following the same orders, and their fills were recorded twice
        (once by this session's reconciliation, once by the one that woke)."""
        query = (
            LiveOrder.select(LiveOrder, SessionRow)
            .join(SessionRow)
            .where(
                (SessionRow.account_key == account_key)
                & LiveOrder.status.in_(OPEN_STATUSES)
                & (SessionRow.id != (self.session.id if self.session else -1))
            )
            .order_by(LiveOrder.id)
        )
        now = store_now(self.db)  # once: on PostgreSQL each reading is a round trip
        claimed: dict[int, bool] = {}
        for o in query:
            row = o.session
            if row.status == "running" and row.id not in claimed and not is_alive(row, now):
                claimed[row.id] = record_died(row)
        return [
            open_order_row(o)
            for o in query
            if claimed.get(o.session.id, True) and not is_alive(o.session, now)
        ]

    def live_sessions_order_ids(self, account_key: str) -> set[str]:
        """Client order ids of the open orders of other sessions on this account that are
        still alive: theirs to follow, neither reconciled nor foreign."""
        query = (
            LiveOrder.select(LiveOrder.client_order_id, SessionRow)
            .join(SessionRow)
            .where(
                (SessionRow.account_key == account_key)
                & LiveOrder.status.in_(OPEN_STATUSES)
                & (SessionRow.status == "running")
                & (SessionRow.id != (self.session.id if self.session else -1))
            )
        )
        now = store_now(self.db)  # once: on PostgreSQL each reading is a round trip
        return {o.client_order_id for o in query if is_alive(o.session, now)}

    def last_positions_of_account(self, account_key: str) -> list[Position] | None:
        """The positions of the account's last snapshot before this session, if any."""
        snap = (
            AccountSnapshot.select()
            .join(SessionRow)
            .where(
                (SessionRow.account_key == account_key)
                & (SessionRow.id != (self.session.id if self.session else -1))
            )
            .order_by(AccountSnapshot.id.desc())
            .first()
        )
        if snap is None:
            return None
        return required_positions(snap)
