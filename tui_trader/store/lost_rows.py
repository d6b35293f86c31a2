"""The audit store's side of finding orders whose rows were lost: which sessions to look for,
which orders the store knows, writing back an order found at the broker, and the last snapshot
with the fills recorded after it (what the broker should hold now).

A commit can be lost after its order reached the broker (an OS crash or a power loss while the
store ran with ``synchronous=normal``, a store restored from an older backup). Start-up
reconciliation (``engine.lost_rows``) then asks the broker for the account's recent orders and
writes back the desk's own that have no row here. These are the store's questions and the one
write; the deciding is the engine's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import SQL, ColumnBase, fn

from tui_trader.core.domain import Position
from tui_trader.core.orders import Order
from tui_trader.store.db import from_db_time, to_db_time
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, SessionRow, database
from tui_trader.store.statements import ORDER_FIELDS, ORDER_SQL, db_time
from tui_trader.store.stored_numbers import required_count
from tui_trader.store.stored_positions import required_positions

CLOCK_MARGIN = timedelta(minutes=5)
"""Looked back this much before the last run began: the broker's clock is not this machine's."""
_CHUNK = 500
"""Ids per ``IN (...)`` (SQLite allows 999 variables in older builds)."""
FOUND_ORDER_SQL = ORDER_SQL + ' ON CONFLICT ("client_order_id") DO NOTHING'
"""An order another desk starting at the same moment wrote back first is written once."""


def last_run_began(account_key: str, session_id: int | None) -> datetime | None:
    """When the account's last run in this store began, less ``CLOCK_MARGIN``: the earliest
    start among its earlier sessions still running when the newest of them started (a
    fleet's desks run side by side). ``None`` when the store has no earlier session on the
    account (nothing here can be the desk's)."""
    earlier = SessionRow.select().where(
        (SessionRow.account_key == account_key) & (SessionRow.id != (session_id or -1))
    )
    newest = earlier.order_by(SessionRow.started_at.desc()).first()
    if newest is None:
        return None
    last_seen = fn.COALESCE(SessionRow.ended_at, SessionRow.heartbeat_at, SessionRow.started_at)
    began = (
        earlier.select(fn.MIN(SessionRow.started_at)).where(last_seen >= newest.started_at).scalar()
    )
    start = from_db_time(began or newest.started_at)
    return start - CLOCK_MARGIN if start is not None else None


def known_order_ids(client_order_ids: Iterable[str]) -> set[str]:
    """Those of ``client_order_ids`` that have a row in this store (any session's)."""
    wanted = list(client_order_ids)
    known: set[str] = set()
    for at in range(0, len(wanted), _CHUNK):
        chunk = wanted[at : at + _CHUNK]
        query = LiveOrder.select(LiveOrder.client_order_id).where(
            LiveOrder.client_order_id.in_(chunk)
        )
        known.update(row.client_order_id for row in query)
    return known


def sessions_by_key(keys: Iterable[str]) -> dict[str, Any]:
    """The ``sessions`` rows of these session keys that this store holds."""
    wanted = list(set(keys))
    found: dict[str, Any] = {}
    for at in range(0, len(wanted), _CHUNK):
        for row in SessionRow.select().where(SessionRow.key.in_(wanted[at : at + _CHUNK])):
            found[row.key] = row
    return found


def write_found_order(
    db: Any, session_id: int, order: Order, iteration: int, reason: str, now: datetime
) -> bool:
    """Write back an order found at the broker as its session's row, in the broker's state,
    with ``reason`` as its rationale and note; False if a row for it already exists (another
    desk starting at the same moment wrote it back first)."""
    values = {
        "session": session_id,
        "client_order_id": order.client_order_id,
        "broker_order_id": order.broker_order_id,
        "symbol": order.symbol,
        "side": str(order.side),
        "quantity": order.qty,
        "order_type": str(order.order_type),
        "limit_price": order.limit_price,
        "status": order.row_status,
        "timestamp": db_time(order.submitted_at or now),
        "market_time": db_time(order.submitted_at or now),
        "updated_at": db_time(now),
        "filled_qty": order.filled_qty,
        "filled_price": order.filled_avg_price,
        "error": reason,
        "rationale": reason,
        "iteration": iteration,
    }
    cursor = db.execute_sql(FOUND_ORDER_SQL, [values[name] for name in ORDER_FIELDS])
    return db.rows_changed(cursor) != 0


@dataclass(frozen=True, slots=True)
class LastSnapshot:
    """The account's last snapshot before this session, as start-up reconciliation reads it."""

    positions: list[Position]
    timestamp: datetime | None
    """When it was written (record time)."""
    fills_through: int | None
    """The newest fill id when it was written (``AccountSnapshot.fills_through``); ``None`` in
    rows from before that column."""
    fills_seen: str | None = None
    """On PostgreSQL, the transactions it saw (``pg_current_snapshot()`` as text) ..."""
    xact: str | None = None
    """... and its own transaction (``store.pg_schema.SERVER_COLUMNS``); ``None`` on SQLite
    and in rows from before those columns."""
    unsettled: frozenset[str] | None = None
    """The symbols it cannot vouch for (``AccountSnapshot.unsettled``); ``None``: not judged."""


_SNAPSHOT_READ = (
    AccountSnapshot.id,
    AccountSnapshot.positions,
    AccountSnapshot.timestamp,
    AccountSnapshot.fills_through,
    AccountSnapshot.unsettled,
)


def _account_snapshots(account_key: str, session_id: int | None) -> Any:
    """The account's snapshots before this session, newest first."""
    return (
        AccountSnapshot.select(*_SNAPSHOT_READ)
        .join(SessionRow)
        .where((SessionRow.account_key == account_key) & (SessionRow.id != (session_id or -1)))
        .order_by(AccountSnapshot.id.desc())
    )


def _as_read(snap: AccountSnapshot) -> LastSnapshot:
    """A snapshot row as start-up reconciliation reads it."""
    held = required_positions(snap)  # a hand edit's text stops the start here
    seen = xact = None
    if getattr(database.obj, "is_postgres", False):
        seen, xact = database.execute_sql(
            'SELECT "fills_seen", "xact"::text FROM "live_account_snapshots" WHERE "id" = %s',
            (snap.id,),
        ).fetchone()
    unsettled = None if snap.unsettled is None else frozenset(snap.unsettled.split(",")) - {""}
    through = snap.fills_through  # the fills it counted: a hand edit's text or inf stops here
    if through is not None:
        through = required_count(through, "live_account_snapshots", snap.id, "fills_through")
    return LastSnapshot(held, from_db_time(snap.timestamp), through, seen, xact, unsettled)


def last_snapshot(account_key: str, session_id: int | None) -> LastSnapshot | None:
    """The account's last snapshot before this session (the one start-up reconciliation
    compares the broker's positions with), or ``None``."""
    snap = _account_snapshots(account_key, session_id).first()
    return None if snap is None else _as_read(snap)


def vouching_snapshots(
    account_key: str, session_id: int | None, symbols: Iterable[str]
) -> dict[str, LastSnapshot]:
    """For each of ``symbols``, the account's newest snapshot before this session that
    vouches for it (not judged, or judged settled); a symbol none vouches for is left out.
    Read newest first, as far back as the oldest symbol's needs."""
    wanted = set(symbols)
    found: dict[str, LastSnapshot] = {}
    judged = _account_snapshots(account_key, session_id).select(
        AccountSnapshot.id, AccountSnapshot.unsettled
    )
    for snap in judged.iterator():  # the short column only: the walk may be long
        if not wanted:
            break
        vouched = wanted - set((snap.unsettled or "").split(","))
        if vouched:
            read = _as_read(
                AccountSnapshot.select(*_SNAPSHOT_READ).where(AccountSnapshot.id == snap.id).get()
            )
            found.update(dict.fromkeys(vouched, read))
            wanted -= vouched
    return found


def _after(snapshot: LastSnapshot) -> ColumnBase | None:
    """The condition on a fill row "recorded after ``snapshot``", ``None`` if none can be said.

    SQLite has one writer at a time (every write transaction begins ``IMMEDIATE``): ids are
    given in commit order, and a fill id above the snapshot's newest is after it. A
    PostgreSQL sequence gives ids in insert order instead: a fill inserted first can commit
    after a snapshot that noted a higher id, and was missed. There a fill is after the
    snapshot when its transaction is none the snapshot saw committed, nor the snapshot's own
    (whose fills up to the noted id it holds; a later one, in a batch of cycles, it does not).
    A fill row from before those columns (``xact`` NULL) committed before any snapshot that
    notes them. In a row from before fill ids were noted, a later record time."""
    if snapshot.fills_seen is not None and snapshot.fills_through is not None:
        seen = SQL('pg_visible_in_snapshot("xact", %s::pg_snapshot)', [snapshot.fills_seen])
        own = SQL('"xact" = %s::xid8', [snapshot.xact]) & (LiveFill.id <= snapshot.fills_through)
        return ~(SQL('"xact" IS NULL') | seen | own)
    if snapshot.fills_through is not None:
        return LiveFill.id > snapshot.fills_through
    if snapshot.timestamp is not None:
        return LiveFill.timestamp > to_db_time(snapshot.timestamp)
    return None


def fills_after(account_key: str, snapshot: LastSnapshot) -> dict[str, float]:
    """Net shares by symbol of the account's fills (any session's) recorded after
    ``snapshot`` (``_after``), each fill once."""
    later = _after(snapshot)
    if later is None:
        return {}
    rows = (
        LiveFill.select(LiveFill.symbol, LiveFill.side, fn.SUM(LiveFill.quantity))
        .join(SessionRow)
        .where((SessionRow.account_key == account_key) & later)
        .group_by(LiveFill.symbol, LiveFill.side)
        .tuples()
    )
    net: dict[str, float] = {}
    for symbol, side, qty in rows:
        net[symbol] = net.get(symbol, 0.0) + (qty or 0.0) * (1 if side == "buy" else -1)
    return net
