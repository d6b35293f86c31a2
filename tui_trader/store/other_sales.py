"""Another session's orders and fills in a symbol, read from the store before a desk places a
protective exit there (``engine.sales_beside`` says why).

Two reads, no broker call: the account's other live (or just ended) sessions' order rows in the
symbol that still work (a row is written before its order is sent, so every order of theirs at
the broker has one), and the shares their fills on one side of the symbol recorded after a
given fill id (the newest one, read just before the desk read the broker's positions: such a
fill may not be in that reading).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from peewee import JOIN, SQL, ColumnBase, ModelSelect, fn

from tui_trader.store.account_reads import OPEN_STATUSES
from tui_trader.store.liveness import alive_within, is_alive, store_now
from tui_trader.store.models import LiveFill, LiveOrder, SessionRow
from tui_trader.store.statements import PG_FILLS_MARKER_SQL


@dataclass(frozen=True, slots=True)
class WorkingRow:
    """One working order of another live (or just ended) session, as its row says."""

    client_order_id: str
    side: str
    order_type: str
    remaining: float
    """Shares not filled yet (the row's quantity less its recorded fills)."""
    symbol: str = ""
    filled: float = 0.0
    """Shares of it recorded filled: the broker's positions may not show them yet (Alpaca's
    lag the fills of an order still working)."""


FillsMark = int | str
"""What the store had recorded when a desk read the broker's positions (``newest_fill_id``)."""


def newest_fill_id() -> FillsMark:
    """What the store has recorded so far, read just before the broker's positions: on SQLite
    the newest fill row's id (0 with none: one writer at a time, so ids come in commit order);
    on PostgreSQL the transactions committed (``pg_current_snapshot()``, as
    ``AuditLog.fills_marker``): a sequence gives ids in insert order, and a fill inserted
    first that committed after a higher id was read was never counted (``closed_since``)."""
    db = LiveFill._meta.database
    db = getattr(db, "obj", db)  # the models' proxy: the database bound to it
    if getattr(db, "is_postgres", False):
        return str(db.execute_sql(PG_FILLS_MARKER_SQL).fetchone()[0])
    return int(LiveFill.select(fn.COALESCE(fn.MAX(LiveFill.id), 0)).scalar() or 0)


def _after(since: FillsMark) -> ColumnBase:
    """The condition on a fill row "recorded after ``since``" (``newest_fill_id``): a higher id
    on SQLite; on PostgreSQL one whose transaction that snapshot did not see committed (and so
    at least its oldest running one's: the index on ``live_fills.xact`` finds them)."""
    if isinstance(since, str):
        return SQL(
            '"xact" >= pg_snapshot_xmin(%s::pg_snapshot) '
            'AND NOT pg_visible_in_snapshot("xact", %s::pg_snapshot)',
            [since, since],
        )
    return LiveFill.id > since


def open_rows(session_id: int) -> ModelSelect:
    """The working order rows of every session but ``session_id``, read through the index on
    the status: a few rows, however long the store's history. With the symbol in the query,
    SQLite walked the index on the symbol instead, every order the symbol ever had (9 ms a
    read at 200,000 orders, once for each exit placed or resized: past a cycle's 5 ms budget
    for one symbol, ``review28d``)."""
    return LiveOrder.select().where(
        LiveOrder.status.in_(OPEN_STATUSES) & (LiveOrder.session != session_id)
    )


def live_working_rows(
    account_key: str, session_id: int, symbol: str | None = None, ended_within: float = 0.0
) -> list[WorkingRow]:
    """The working order rows of the other sessions of ``account_key`` that are alive, in
    every symbol (``symbol`` ``None``) or in one; with ``ended_within`` also those of a session
    that ended (or died) at most that many seconds ago: its last orders may work on at the
    broker (``engine.others_working``, ``engine.sales_beside``). Not a session's that ended
    before: its rows are reconciled, not followed (they may be long stale)."""
    rows = [o for o in open_rows(session_id) if symbol is None or o.symbol == symbol]
    if not rows:
        return []
    sessions = {
        row.id: row
        for row in SessionRow.select().where(
            SessionRow.id.in_(sorted({o.session_id for o in rows}))
            & (SessionRow.account_key == account_key)
        )
    }
    now = store_now(LiveOrder._meta.database)
    return [
        WorkingRow(
            o.client_order_id,
            o.side,
            o.order_type,
            max(o.quantity - o.filled_qty, 0.0),
            o.symbol,
            max(o.filled_qty, 0.0),
        )
        for o in rows
        if o.session_id in sessions and _counted(sessions[o.session_id], now, ended_within)
    ]


def _counted(session: SessionRow, now: datetime, ended_within: float) -> bool:
    """Whether a session's working rows count: alive, or ended within ``ended_within`` s."""
    if is_alive(session, now):
        return True
    return ended_within > 0 and alive_within(session, ended_within, now)


def closed_since(
    account_key: str,
    symbol: str,
    session_id: int | None,
    since: FillsMark,
    side: str,
    besides: Collection[str] = (),
    own: bool = False,
) -> float:
    """The shares other sessions of ``account_key`` (every session, ``session_id`` ``None``;
    only that session's, ``own``) recorded as filled on ``side`` in ``symbol`` in fills
    recorded after ``since`` (``newest_fill_id``; 0.0 with none), but the fills of the orders
    whose client ids are ``besides`` (counted whole already: ``engine.sales_beside``)."""
    query = (
        LiveFill.select(fn.COALESCE(fn.SUM(LiveFill.quantity), 0.0))
        .join(SessionRow)
        .switch(LiveFill)
        .join(LiveOrder, JOIN.LEFT_OUTER, on=(LiveFill.order == LiveOrder.id))
        .where(
            _after(since)
            & (LiveFill.symbol == symbol)
            & (LiveFill.side == side)
            & (SessionRow.account_key == account_key)
        )
    )
    if session_id is not None:
        query = query.where((SessionRow.id == session_id) if own else (SessionRow.id != session_id))
    if besides:
        query = query.where(
            LiveOrder.client_order_id.is_null() | LiveOrder.client_order_id.not_in(list(besides))
        )
    return float(query.scalar() or 0.0)


def ended_rows(account_key: str, session_id: int, client_order_ids: list[str]) -> set[str]:
    """Those of ``client_order_ids`` that are rows of another session of ``account_key``
    saying the order ended (its desk recorded the broker's word: filled, cancelled, ...)."""
    if not client_order_ids:
        return set()
    query = (
        LiveOrder.select(LiveOrder.client_order_id)
        .join(SessionRow)
        .where(
            (SessionRow.account_key == account_key)
            & (SessionRow.id != session_id)
            & LiveOrder.client_order_id.in_(client_order_ids)
            & LiveOrder.status.not_in(OPEN_STATUSES)
        )
    )
    return {row.client_order_id for row in query}
