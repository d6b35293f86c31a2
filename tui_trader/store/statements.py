"""The audit trail's hot statements, compiled once from the models, and reading the risk state.

peewee builds a statement's SQL anew on every call, which cost more than the write itself on the
decision path; these are built once at import and run through ``execute_sql``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tui_trader.core.orders import PENDING_CANCEL, OrderStatus
from tui_trader.risk.state import RiskState
from tui_trader.store.models import (
    AccountSnapshot,
    LiveOrder,
    LiveTrade,
    RiskEventRow,
    RiskStateRow,
)
from tui_trader.store.risk_row import SELECT_SQL, risk_state_of


def insert_sql(model: type, replace_row: bool = False) -> tuple[str, list[str]]:
    """A ready ``INSERT`` for every column but the auto id, built once from the model."""
    fields = [f for f in model._meta.sorted_fields if f.name != "id" or not f.primary_key]
    fields = [f for f in fields if not (f.primary_key and f.field_type == "AUTO")]
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    marks = ", ".join("?" for _ in fields)
    verb = "INSERT OR REPLACE" if replace_row else "INSERT"
    return f'{verb} INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})', [
        f.name for f in fields
    ]


_SNAPSHOT_COLUMNS = [
    f
    for f in AccountSnapshot._meta.sorted_fields
    if f.name not in ("id", "fills_through", "unsettled")
]
SNAPSHOT_FIELDS = [f.name for f in _SNAPSHOT_COLUMNS]
_OPEN_ROWS = ", ".join(
    f"'{status}'" for status in [*(s for s in OrderStatus if not s.is_final), PENDING_CANCEL]
)
_ACCOUNT = '+{}."session_id" IN (SELECT "id" FROM "sessions" WHERE "account_key" = ?)'
_UNSETTLED = (
    f'SELECT o."symbol" FROM "live_orders" o WHERE o."status" IN ({_OPEN_ROWS}) AND '
    + _ACCOUNT.format("o")
    + ' UNION SELECT f."symbol" FROM "live_fills" f WHERE '
    + _ACCOUNT.format("f")
    + " AND "
)
"""The account's symbols with an order row not final, or a fill recorded since the marker
(``FILLS_MARKER_SQL``): those a snapshot cannot vouch for (``AccountSnapshot.unsettled``).
The few open rows are found by status, the fills by id (or, on PostgreSQL, transaction): the
``+`` keeps SQLite from walking every row of the account's sessions instead."""


def _snapshot_sql(aggregate: str | None = None, since: str = "") -> str:
    """A snapshot's ``INSERT``, stamped in the same statement with the newest fill id and, with
    ``aggregate``, the symbols it cannot vouch for (``_UNSETTLED``, its fills since the marker
    as ``since`` says)."""
    columns = [f'"{f.column_name}"' for f in _SNAPSHOT_COLUMNS] + ['"fills_through"']
    values = ["?" for _ in _SNAPSHOT_COLUMNS] + [
        '(SELECT COALESCE(MAX("id"), 0) FROM "live_fills")'
    ]
    if aggregate is not None:
        columns.append('"unsettled"')
        values.append(
            f"(SELECT COALESCE(',' || {aggregate} || ',', ',') FROM ({_UNSETTLED}{since}) u)"
        )
    table = AccountSnapshot._meta.table_name
    return f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join(values)})'


SNAPSHOT_SQL = _snapshot_sql()
"""A snapshot's row stamped, in the same statement, with the newest fill recorded so far
(``AccountSnapshot.fills_through``): no round trip more, and nothing recorded in between."""
JUDGED_SNAPSHOT_SQL = _snapshot_sql("""group_concat("symbol", ',')""", 'f."id" > ?')
PG_JUDGED_SNAPSHOT_SQL = _snapshot_sql(
    """string_agg("symbol", ',')""",
    'f."xact" >= pg_snapshot_xmin(?::pg_snapshot) '
    'AND NOT pg_visible_in_snapshot(f."xact", ?::pg_snapshot)',
)
"""A broker-backed session's snapshot (SQLite, PostgreSQL), judged in the same statement:
its parameters are ``SNAPSHOT_FIELDS``' values, the account key twice and the marker read
just before the broker's positions were (PostgreSQL: twice). A fill recorded since the
marker: a higher id on SQLite (one writer at a time); on PostgreSQL one whose transaction
the marker's snapshot did not see (and so at least its oldest running one: the index on
``live_fills.xact`` finds them)."""
FILLS_MARKER_SQL = 'SELECT COALESCE(MAX("id"), 0) FROM "live_fills"'
PG_FILLS_MARKER_SQL = "SELECT pg_current_snapshot()::text"
"""What the audit trail has recorded, read just before a broker's positions are."""
ORDER_SQL, ORDER_FIELDS = insert_sql(LiveOrder)
TRADE_SQL, TRADE_FIELDS = insert_sql(LiveTrade)
RISK_EVENT_SQL, RISK_EVENT_FIELDS = insert_sql(RiskEventRow)
# ``AuditLog.order_pending``, ``AuditLog.trade`` and ``AuditLog.risk_event`` build their rows as
# plain lists in this order
_ORDER_ROW = [
    "session",
    "client_order_id",
    "broker_order_id",
    "symbol",
    "side",
    "quantity",
    "order_type",
    "limit_price",
    "status",
    "timestamp",
    "market_time",
    "updated_at",
    "filled_qty",
    "filled_price",
    "error",
    "rationale",
    "iteration",
]
_TRADE_ROW = [
    "session",
    "symbol",
    "side",
    "quantity",
    "entry_price",
    "exit_price",
    "timestamp",
    "market_time",
    "entry_time",
    "commission",
    "slippage",
    "pnl",
    "pnl_pct",
    "client_order_id",
]
_RISK_EVENT_ROW = [
    "session",
    "account_key",
    "timestamp",
    "market_time",
    "event_type",
    "value",
    "limit",
    "action_taken",
    "symbol",
    "detail",
]
if ORDER_FIELDS != _ORDER_ROW or TRADE_FIELDS != _TRADE_ROW or RISK_EVENT_FIELDS != _RISK_EVENT_ROW:
    raise RuntimeError(
        "live_orders, live_trades or live_risk_events columns changed: update the rows of "
        "store/audit.py"
    )
FILL_SQL = (
    'INSERT INTO "live_fills" ("session_id", "order_id", "fill_key", "symbol", "side", '
    '"quantity", "price", "commission", "slippage", "timestamp", "market_time") VALUES '
    '(?, (SELECT "id" FROM "live_orders" WHERE "client_order_id" = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?) '
    'ON CONFLICT ("fill_key") DO NOTHING'
)
"""A fill already recorded changes nothing (rowcount 0): a failed statement would abort the
whole transaction on PostgreSQL, where SQLite fails the statement alone."""
FILL_UPTO_SQL = (
    'INSERT INTO "live_fills" ("session_id", "order_id", "fill_key", "symbol", "side", '
    '"quantity", "price", "commission", "slippage", "timestamp", "market_time") SELECT ?, o."id", '
    '?, ?, ?, ?, ?, ?, ?, ?, ? FROM "live_orders" o WHERE o."client_order_id" = ? AND '
    '(SELECT COALESCE(SUM(f."quantity"), 0) FROM "live_fills" f WHERE f."order_id" = o."id") '
    '+ ? <= ? + 1e-9 ON CONFLICT ("fill_key") DO NOTHING'
)
"""``FILL_SQL`` only while the fills recorded for the order, with this one, stay within what
the broker says it filled: a fill another desk recorded already (under its own key) is not
recorded again (``AuditLog.fill``'s ``upto``)."""
ORDER_LOCK_SQL = 'SELECT 1 FROM "live_orders" WHERE "client_order_id" = ? FOR UPDATE'
"""On PostgreSQL, the order's row locked before ``FILL_UPTO_SQL`` (its own statement: under READ
COMMITTED the insert's snapshot, taken once the lock is granted, then sees the fills another
desk's transaction committed meanwhile). A desk whose view was behind the row (another desk
had brought it on) updated no row, so locked none, and two such desks inserted the same share
under the cap at once, neither seeing the other's (records30: 2 fills recorded for 1 share)."""
ORDER_UPDATE_SQL = (
    'UPDATE "live_orders" SET "status" = ?, "filled_qty" = ?, "updated_at" = ?, '
    '"broker_order_id" = COALESCE(?, "broker_order_id"), '
    '"filled_price" = COALESCE(?, "filled_price"), "error" = COALESCE(?, "error") '
    'WHERE "client_order_id" = ?'
)
_FINAL_ROW = "('filled', 'canceled', 'expired', 'rejected', 'not_received')"
"""The row statuses after which nothing happens to an order (``OrderStatus.is_final``);
``pending_cancel`` is not one (the cancel may still lose to a fill)."""
FOUND_FILL_UPDATE_SQL = ORDER_UPDATE_SQL + (
    ' AND "filled_qty" < ? + 1e-9 AND NOT ("filled_qty" > ? - 1e-9 AND "status" IN '
    f"{_FINAL_ROW} AND (? NOT IN {_FINAL_ROW} OR (\"status\" = 'filled' AND ? <> 'filled') "
    "OR (\"status\" <> 'not_received' AND ? = 'not_received')))"
)
"""``ORDER_UPDATE_SQL`` only while the row records no more filled than a found fill starts
from: a compare-and-set, so that a fill another desk recorded meanwhile (the row moved on) is
not recorded again (``AuditLog.order_update_found``). A row behind it (an order followed from
the broker's view, its row not brought up yet: a stop taken over after part of it filled)
still takes the fill: no desk recorded that one (review29a). At the same filled quantity
(parameters: the view's quantity, then its status thrice) a final row takes only a final
view, a filled row only ``filled``, and none ``not_received`` (a desk's guess from the
broker's silence, never over what the broker said): a view lagging another desk's (a stream
behind, a REST read behind the stream) wrote ``partially_filled`` or ``new`` over ``canceled``,
``pending_cancel`` over ``filled``, and the trail showed a finished order working
(records30)."""
"""The hot statements of a decision cycle, compiled once: peewee's per-query SQL generation
(and model instances) cost more than the writes themselves."""


def load_risk_state(account_key: str, strict: bool = True) -> RiskState:
    """The saved risk state of an account, or a fresh one.

    A hand edit no session writes (an equity of ``inf``, text or ``1e308``, a state or day
    nobody can read, a negative count) raises ``UnreadableValue`` naming the row: a money path
    must not go on from it (``store.risk_row``). ``strict=False`` (a display) reads an
    unreadable equity as empty, with a warning."""
    row = RiskStateRow._meta.database.execute_sql(SELECT_SQL, (account_key,)).fetchone()
    if row is None:
        return RiskState(account_key=account_key)
    return risk_state_of(account_key, row, strict)


_UTC_ZONES = (UTC, ZoneInfo("UTC"))


def db_time(ts: datetime | None) -> str | None:
    """``db_value(to_db_time(ts))`` in one step, the text a timestamp is stored as (naive UTC,
    ISO with a space); an audit row has two or three of them, so the shortcut for UTC counts."""
    if ts is None:
        return None
    tz = ts.tzinfo
    if tz is None:
        return ts.isoformat(" ")
    if tz not in _UTC_ZONES:
        ts = ts.astimezone(UTC)
    return ts.isoformat(" ")[:-6]  # without the "+00:00"


def db_value(value: object) -> object:
    """A Python value as SQLite stores it (datetimes as peewee writes them: ISO with a space)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


_ORDER_TIMES = tuple(ORDER_FIELDS.index(n) for n in ("timestamp", "market_time", "updated_at"))


def order_times_as_text(row: list[object]) -> None:
    """An order row's times (datetimes or ``None``) as the text they are stored as, in place:
    a local cycle's rows keep datetimes until they are written after its orders went out."""
    for i in _ORDER_TIMES:
        row[i] = db_time(row[i])  # type: ignore[arg-type]
