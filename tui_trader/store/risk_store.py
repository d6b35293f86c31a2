"""The account's risk-state row, changed only by atomic read-modify-write.

Every process trading an account shares one ``risk_state`` row. A change takes the row's write
lock first (an ``UPDATE ... RETURNING`` that bumps ``version``: SQLite then holds the write lock
for the rest of the transaction, so nobody writes between the read and the write), merges this
session's changes into what it read (``tui_trader.risk.merge``) and writes the result. A halt
written gets a new ``halt_id`` in that write: a reset (``risk reset``, the desk's resume) lifts
only the halt its reader saw, compared by that identity under the row's lock. Outside a
transaction the whole step runs in ``BEGIN IMMEDIATE``. The day's order count is reserved one
order at a time with a single conditional ``UPDATE``, so two sessions with a limit of 10 send 10
orders between them, not 20.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from peewee import SqliteDatabase

from tui_trader.core.domain import TradingState
from tui_trader.risk.merge import merge_risk_state
from tui_trader.risk.state import RiskState
from tui_trader.store.risk_row import COLUMNS as _COLUMNS
from tui_trader.store.risk_row import SELECT_SQL, risk_state_of
from tui_trader.store.statements import db_time
from tui_trader.store.stored_numbers import required_count

_LOCK_SQL = (
    'UPDATE "risk_state" SET "version" = COALESCE("version", 0) + 1 WHERE "account_key" = ? '
    f"RETURNING {', '.join(_COLUMNS)}"
)
_WRITE_SQL = (
    'UPDATE "risk_state" SET '
    + ", ".join(f'"{c}" = ?' for c in _COLUMNS)
    + ', "updated_at" = ? WHERE "account_key" = ?'
)
_INSERT_SQL = (
    'INSERT INTO "risk_state" ("account_key", '
    + ", ".join(f'"{c}"' for c in _COLUMNS)
    + ', "updated_at", "version") VALUES (?, '
    + ", ".join("?" for _ in _COLUMNS)
    + ", ?, 1) ON CONFLICT DO NOTHING"
)
_RESERVE_WHERE = (
    'UPDATE "risk_state" SET "orders_today" = "orders_today" + 1, '
    '"version" = COALESCE("version", 0) + 1, "updated_at" = ? '
    'WHERE "account_key" = ? AND "day" = ? AND "orders_today" < ?'
)
_RESERVE_SQL = _RESERVE_WHERE + ' RETURNING "orders_today"'
_RESERVE_UNHALTED_SQL = _RESERVE_WHERE + ' AND "state" <> \'halted\' RETURNING "orders_today"'
_COUNT_SQL = 'SELECT "orders_today", "day" FROM "risk_state" WHERE "account_key" = ?'


def _now() -> str | None:
    """The wall-clock time a risk-state change is stamped with."""
    return db_time(datetime.now(UTC))


def _state(account_key: str, values: Any) -> RiskState:
    """A row's columns (in ``_COLUMNS`` order) as a ``RiskState``: a hand edit no session
    writes (``inf``, text, a negative count) stops the session here, in one line naming the
    row (``store.risk_row``)."""
    return risk_state_of(account_key, values)


def _values(state: RiskState) -> list[Any]:
    """A ``RiskState`` as the row's columns (in ``_COLUMNS`` order)."""
    return [
        str(state.state),
        state.peak_equity,
        state.day.isoformat() if state.day else None,
        state.day_open_equity,
        state.last_equity,
        state.orders_today,
        state.halt_reason,
        state.halt_detail,
        state.halt_id,
    ]


def sync_risk_state(db: SqliteDatabase, base: RiskState | None, mine: RiskState) -> RiskState:
    """Merge this session's changes since ``base`` into the account's row, atomically; returns
    the row as written (the session adopts it as both its state and its new ``base``).

    Inside an open transaction (a local cycle, a batch of replay cycles) it runs in that
    transaction, which then holds the row's lock until it commits; otherwise in its own
    ``BEGIN IMMEDIATE``. Straight on the connection: it runs every cycle. A new halt of
    this session's commits durably on a durable store (``durably``: a broker-backed session's
    halt must survive a power loss); other changes stay cheap."""
    if db.in_transaction():
        return _sync(db, base, mine)
    if (
        mine.halted
        and getattr(db, "durable", False)
        and (base is None or _halt_of(base) != _halt_of(mine))
    ):
        with db.durably(), db.atomic("IMMEDIATE"):
            return _sync(db, base, mine)
    with db.atomic("IMMEDIATE"):
        return _sync(db, base, mine)


def lock_risk_row(db: Any, account_key: str) -> None:
    """Take the account's row's write lock inside the open transaction, held until it ends:
    what the transaction reads next (a kept halt's row another process wrote, then committed)
    cannot change before it commits. An account with no row yet (its first start, on a new
    store) gets one first, an active state with nothing counted, inserted only if no other
    transaction has (``ON CONFLICT DO NOTHING``: on PostgreSQL it waits for one that inserted
    it and has not ended), then locked. Before, a missing row took no lock on PostgreSQL (an
    ``UPDATE`` of no row locks nothing there): two first starts both wrote the account's kept
    halt. Rolled back with the transaction if it fails."""
    if db.raw(_LOCK_SQL, (account_key,)).fetchall():
        return
    db.raw(_INSERT_SQL, [account_key, *_values(RiskState(account_key)), _now()])
    db.raw(_LOCK_SQL, (account_key,)).fetchall()


def _halt_of(state: RiskState) -> tuple[TradingState, str | None, str]:
    """A state's halt fields, compared as one value."""
    return (state.state, state.halt_reason, state.halt_detail)


def _sync(db: Any, base: RiskState | None, mine: RiskState) -> RiskState:
    """The read-modify-write itself, the write lock taken first."""
    key = mine.account_key
    row = db.raw(_LOCK_SQL, (key,)).fetchall()
    if not row:
        if db.raw(_INSERT_SQL, [key, *_values(mine), _now()]).rowcount == 1:
            return mine
        row = db.raw(_LOCK_SQL, (key,)).fetchall()
    current = _state(key, row[0])
    merged = merge_risk_state(current, base, mine)
    if merged != current:
        db.raw(_WRITE_SQL, [*_values(merged), _now(), key])
    return merged


def reserve_order_slot(
    db: SqliteDatabase, account_key: str, day: date | None, limit: int, unless_halted: bool = False
) -> tuple[bool, int]:
    """Take one of the day's order slots for the account: ``(True, count after)``, or
    ``(False, count)`` when the limit is reached (or the row is on another trading day).

    ``unless_halted``: and only while the account's row is not halted. An order decided by a
    session that read the account active is fenced off, in the same statement that counts it,
    if another process halted the account since (``fleet halt``, another session's kill
    switch), however long this process was frozen between its decision and its sending."""
    when = day.isoformat() if day else None
    sql = _RESERVE_UNHALTED_SQL if unless_halted else _RESERVE_SQL
    rows = db.raw(sql, (_now(), account_key, when, limit)).fetchall()
    if rows:
        return True, _count(account_key, rows[0][0])
    current = db.raw(_COUNT_SQL, (account_key,)).fetchone()
    return False, _count(account_key, current[0]) if current else 0


def _count(account_key: str, value: object) -> int:
    """The day's order count as the row holds it after a hand edit made mid-session: a count
    from 0 up, else ``UnreadableValue`` naming the row (``int('xyzzy')`` crashed the cycle
    with a bare ValueError; 2.5 was rounded to 2)."""
    return required_count(value, "risk_state", account_key, "orders_today")


_RELEASE_SQL = (
    'UPDATE "risk_state" SET "orders_today" = "orders_today" - 1, '
    '"version" = COALESCE("version", 0) + 1, "updated_at" = ? '
    'WHERE "account_key" = ? AND "day" = ? AND "orders_today" > 0 RETURNING "orders_today"'
)


def release_order_slot(db: SqliteDatabase, account_key: str, day: date | None) -> int | None:
    """Give back one of the day's order slots that ``reserve_order_slot`` took for an order
    then not sent (it waits for a protective exit's cancel): the count after, in the same
    single statement that takes one, so no other process's slot is lost. ``None`` when the
    row is missing or on another trading day (nothing to give back)."""
    when = day.isoformat() if day else None
    rows = db.raw(_RELEASE_SQL, (_now(), account_key, when)).fetchall()
    return _count(account_key, rows[0][0]) if rows else None


_ADD_SQL = (
    'UPDATE "risk_state" SET "orders_today" = "orders_today" + ?, '
    '"version" = COALESCE("version", 0) + 1, "updated_at" = ? WHERE "account_key" = ? '
    'RETURNING "orders_today"'
)


def add_reserved_orders(db: SqliteDatabase, base: RiskState, reserved: int) -> RiskState:
    """Add ``reserved`` order slots, counted in memory under this transaction's lock on the
    row, to the account's count; ``base`` with the count as written."""
    rows = db.raw(_ADD_SQL, (reserved, _now(), base.account_key)).fetchall()
    count = _count(base.account_key, rows[0][0]) if rows else base.orders_today + reserved
    return base.with_orders(count)


def read_risk_state(db: SqliteDatabase, account_key: str) -> RiskState | None:
    """The account's row as it is now, or ``None`` if it has none."""
    row = db.execute_sql(SELECT_SQL, (account_key,)).fetchone()
    return _state(account_key, row) if row else None
