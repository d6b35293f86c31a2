"""Start-up reconciliation's look for the desk's own orders whose audit rows were lost.

The order row is committed before an order is sent, but a commit can still be lost after the
broker has the order: an OS crash or a power loss while the store ran with
``synchronous=normal`` (what Alpaca sessions did before they committed durably), or a store
restored from an older backup. The broker then holds an order the audit trail does not: open,
it looked like someone else's; filled, its shares looked like a change made outside the desk.

So, on an account others can trade, reconciliation lists the broker's orders since the
account's last run here began (open and closed) and looks at each whose client order id is of
the desk's form (``core.order_ids``) and has no row. It is written back, as its session's
order, only when that session is in this store, on this account, not running any more, and the
id's symbol is the order's: its state and fills as the broker has them, the reason in plain
words, a ``reconciliation`` event, and, still working, followed like the session's own. Any
doubt (no such session here, another account's, still running, a mismatch) is said and the
order left untouched: it stays another program's. An order of a session that carries this
store's tag (``store.store_identity``) but has no row (a restore from an older backup) is said
as such and left too: without the row neither its account nor whether it still runs (at a desk
on a copy of this store) is known; a halt cancels it (``engine.halt_keeps``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tui_trader.brokers import Broker, unseen
from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.order_ids import key_tag, read_order_id
from tui_trader.core.orders import Fill, Order, fill_increment, unfilled
from tui_trader.store import lost_rows
from tui_trader.store.audit import AuditLog
from tui_trader.store.liveness import is_alive, store_now

RECONCILIATION = "reconciliation"
LOST_ROW = (
    "found at the broker: its audit row was lost, e.g. power loss before the database reached disk"
)
"""The written-back row's rationale and note, and the heart of its event."""


@dataclass(slots=True)
class Found:
    """What the look found and did."""

    events: list[RiskEvent] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    """The written-back orders' executions, to record like any missed fill."""
    adopted: list[Order] = field(default_factory=list)
    ours: set[str] = field(default_factory=set)
    """Client ids now known as the desk's (written back here, or by another desk just now)."""
    written: list[Order] = field(default_factory=list)
    """The orders written back here, in the broker's state."""
    rows: dict[str, Order] = field(default_factory=dict)
    """Client id -> the broker's state of a written-back order with fills: its row was
    written not filled yet, and takes this state in the commit that records its fill."""


def find_lost_orders(
    broker: Broker,
    audit: AuditLog,
    account_key: str,
    count: Callable[[Order], None] | None = None,
) -> Found:
    """Write back the desk's own orders at the broker that have no row here (see above).

    ``count`` is called with each order written back here, in the transaction that writes its
    row: the order counts toward its day's order limit (the slot taken when it was sent was
    lost with its row) exactly when its row is back, never one without the other."""
    found = Found()
    session_id = audit.session.id if audit.session else None
    since = lost_rows.last_run_began(account_key, session_id)
    if since is None:
        return found  # nothing in this store on this account: no order can be the desk's
    listed = broker.orders_since(since)
    if unseen(listed):  # past the listing's bound: said, never dropped in silence
        found.events.append(
            RiskEvent(
                RECONCILIATION,
                float(len(listed)),
                0.0,
                "older orders not looked at: one among them whose row was lost stays another "
                "program's (compare the broker's orders with the History screen if in doubt)",
                detail=f"the look for orders whose audit rows were lost: {unseen(listed)}",
            )
        )
    if not listed:
        return found
    shaped = {o.client_order_id: o for o in listed if read_order_id(o.client_order_id)}
    missing = set(shaped) - lost_rows.known_order_ids(shaped)
    if not missing:
        return found
    ids = {cid: read_order_id(cid) for cid in missing}
    sessions = lost_rows.sessions_by_key(i.session_key for i in ids.values() if i)
    now = datetime.now(UTC)
    store_time = store_now(audit.db)
    doubts: list[str] = []
    own_tag = key_tag(audit.session.key) if audit.session else None
    for cid in sorted(missing, key=lambda c: _when(shaped[c])):
        order, parts = shaped[cid], ids[cid]
        assert parts is not None  # only ids of the desk's form were kept
        row = sessions.get(parts.session_key)
        tagged = own_tag is not None and key_tag(parts.session_key) == own_tag
        doubt = _doubt(order, parts.symbol, row, account_key, store_time, tagged)
        if doubt:
            doubts.append(f"{cid} ({_what(order)}): {doubt}")
            continue
        fill = fill_increment(order, 0.0, 0.0, now)
        with audit.db.atomic():
            written = lost_rows.write_found_order(
                audit.db, row.id, unfilled(order) if fill else order, parts.iteration, LOST_ROW, now
            )
            if written and count is not None:
                count(order)
        found.ours.add(cid)
        if not written:
            continue  # another desk starting now wrote it back: that desk follows it
        found.written.append(order)
        if fill is not None:
            found.fills.append(fill)
            found.rows[cid] = order
        action = "written back into the audit trail from the broker's record, its fills included"
        if order.status.is_open or order.cancel_pending:
            broker.adopt(order)
            found.adopted.append(order)
            action += "; followed like the session's own orders"
        found.events.append(
            RiskEvent(
                RECONCILIATION,
                1.0,
                0.0,
                action,
                symbol=order.symbol,
                detail=f"order {cid} of session {parts.session_key} ({_what(order)}, "
                f"{order.status} at the broker, {order.filled_qty:g} filled): {LOST_ROW}",
            )
        )
    if doubts:
        found.events.append(
            RiskEvent(
                RECONCILIATION,
                float(len(doubts)),
                0.0,
                "left untouched: not written into this audit trail, not followed",
                detail=f"{len(doubts)} order(s) at the broker carry this desk's client order "
                "id form but have no row here and cannot be told this desk's: "
                + "; ".join(doubts[:5])
                + ("; ..." if len(doubts) > 5 else ""),
            )
        )
    return found


def with_found_fills(
    expected: list[Position], found: Found, snapshot_at: datetime | None
) -> list[Position]:
    """The last snapshot's positions with what the written-back orders placed after it
    filled. Commits reach the disk in order: a snapshot that survived a power loss was
    written before every lost row, so it holds none of their fills; an order placed before
    the snapshot had its row written before it too (its row would have survived), and the
    snapshot already holds what it filled."""
    late = [o for o in found.written if snapshot_at is None or _when(o) > snapshot_at]
    if not late:
        return expected
    held = {p.symbol: p for p in expected}
    for order in late:
        was = held.get(order.symbol) or Position(order.symbol, 0.0, 0.0, 0.0)
        moved = order.filled_qty * order.side.sign
        held[order.symbol] = Position(
            was.symbol, was.qty + moved, was.avg_entry_price, was.last_price
        )
    return list(held.values())


def _doubt(
    order: Order,
    symbol: str,
    row: object | None,
    account_key: str,
    now: datetime,
    tagged: bool = False,
) -> str | None:
    """Why ``order`` cannot be taken as its session's, or ``None`` when it can. A session
    with this store's tag (``tagged``) and no row is said apart, but not taken: with no row,
    neither its account nor whether it still runs (a copy of this store at another desk) can
    be told."""
    if row is None:
        if tagged:
            return (
                "its session was made by this database but has no row here (a restore from "
                "an older backup, or a copy of this database another desk uses); a halt "
                "cancels it"
            )
        return (
            "no session of this database made it (another desk's database on this account, "
            "or its session's own row was lost too)"
        )
    other = getattr(row, "account_key", None)
    if other != account_key:
        return f"its session {getattr(row, 'key', '?')} of this database traded {other}"
    if symbol != order.symbol:
        return f"its id names {symbol}, the broker's order is for {order.symbol}"
    if is_alive(row, now):
        return f"its session {getattr(row, 'key', '?')} is still running: its own to follow"
    return None


def _what(order: Order) -> str:
    """``buy 10 SPY``."""
    return f"{order.side} {order.qty:g} {order.symbol}"


def _when(order: Order) -> datetime:
    """When the order was placed (oldest first; an unknown time last)."""
    return order.submitted_at or datetime.max.replace(tzinfo=UTC)
