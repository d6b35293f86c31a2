"""Start-up reconciliation: make the audit trail and the broker agree before trading.

An account outlives every run. Orders the last run left open may have filled, been cancelled or
never arrived; positions may have changed by hand. Before its first decision the session asks
the broker about every order its database still thinks is open, records what happened to each
(fills included), keeps following the ones still working, hands the ones the broker does not know
yet to the session to look up again (they are never marked final on one "not found"), and
compares the broker's positions with what the account should hold: the last snapshot plus every
fill of the account recorded after it (committed after the snapshot was written: by fill id
against the newest one the snapshot saw on SQLite, by the transactions it saw on PostgreSQL),
those this reconciliation finds (an earlier run's order that filled while no session watched)
and those of orders written back (below), each once. A snapshot written while fills were still
on their way, followed by a power loss that kept those fills but lost the later snapshots, is
then no false "positions differ". A symbol the last snapshot cannot vouch for (its broker
positions may already hold a fill whose news came after it: ``AccountSnapshot.unsettled``) is
taken from the newest earlier snapshot that vouches for it, plus the fills after that one; one
none vouches for is not compared. Every difference becomes a ``reconciliation`` risk event, so
nothing is silently papered over. A symbol whose position the start-up comparison with
the account's recorded fills (``engine.outside_changes``) already speaks of is left to that more
precise event (``positions_event``): it compares with every fill recorded, including those that
came after the last snapshot, so it says the same fact, or the truer one; one fact, one alarm.
A row left ``pending_cancel`` (a cancel the broker accepted but had not confirmed when the run
ended) is looked up too: a fill that beat the cancel is recorded, a confirmation just makes the
row final, and a cancel still pending is followed.
A broker answer behind what the row already records (Alpaca's REST lagging its stream: less
filled, or an earlier status) is asked once more; still behind, the row is kept and the order
followed from what it records, so a fill is never recorded twice.
Each row is written only while it records no more than the answer does (``AuditLog.
order_update_found``): another desk started at the same moment may have found the order since
this one read its row (filled, recorded), and writing the answer read before that back over it
(``unknown`` or ``new`` with nothing filled) led the next start to record the fill again
(records30).
The desk's own orders at the broker whose rows were lost (a power loss before the database
reached disk) are written back and followed too (``engine.lost_rows``), not called foreign.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from tui_trader.brokers import Broker, BrokerError
from tui_trader.core.domain import Position, RiskEvent
from tui_trader.core.order_views import is_stale
from tui_trader.core.orders import (
    PENDING_CANCEL,
    Fill,
    Order,
    OrderStatus,
    fill_increment,
)
from tui_trader.engine.lost_rows import (
    RECONCILIATION,
    Found,
    find_lost_orders,
    with_found_fills,
)
from tui_trader.store import lost_rows
from tui_trader.store.account_reads import OpenOrderRow
from tui_trader.store.audit import AuditLog

__all__ = [
    "RECONCILIATION",
    "ReconcileResult",
    "as_recorded",
    "missed_fill",
    "reconcile",
    "unsettled_order",
]


@dataclass(slots=True)
class ReconcileResult:
    """What reconciliation found and did."""

    events: list[RiskEvent] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    rows: dict[str, Order] = field(default_factory=dict)
    """Client id -> the broker's state of an order with a fill in ``fills``: its row is not
    written yet, and takes this state in the commit that records the fill (a start killed
    between the two left the row final without its fill, for good)."""
    adopted: list[Order] = field(default_factory=list)
    unsettled: list[OpenOrderRow] = field(default_factory=list)
    """Rows the broker does not know (yet): kept ``unknown``, for the session to follow."""
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Symbol -> (shares in the last snapshot, shares at the broker), where they differ: not an
    event yet (``positions_event``), so that a difference said more precisely is said once."""


def reconcile(
    broker: Broker,
    audit: AuditLog,
    account_key: str,
    count_lost: Callable[[Order], None] | None = None,
) -> ReconcileResult:
    """Bring earlier runs' open orders up to date and compare positions with the last snapshot;
    ``count_lost`` counts each order written back (``engine.lost_rows.find_lost_orders``)."""
    result = ReconcileResult()
    broker_open = {o.client_order_id: o for o in broker.open_orders()}
    rows = audit.open_orders_of_account(account_key)
    ours = {row.client_order_id for row in rows} | audit.live_sessions_order_ids(account_key)
    for row in rows:
        current = broker_open.get(row.client_order_id) or broker.get_order(row.client_order_id)
        if current is None:
            # Not found is not "never received": the request may still be on its way. The
            # session keeps the order unsettled and asks again (see ``engine.settlement``).
            # Never back: another desk's start may have found it since this one read the row.
            audit.order_update_found(unsettled_order(row), row.filled_qty)
            result.unsettled.append(row)
            continue
        cancel_pending = row.status == PENDING_CANCEL
        # replaced, but its replacement ended unfilled: the replace did not happen, it works on
        works_on = cancel_pending and not current.status.is_final and replace_failed(broker, row)
        cancel_pending = cancel_pending and not works_on
        if cancel_pending and not current.status.is_final:  # still may fill: not final yet
            current = _still_pending(current, row)
        recorded = as_recorded(row, current)
        if not works_on and is_stale(current, recorded):  # lagging what we recorded: ask again
            again = broker.get_order(row.client_order_id)
            if again is not None and not is_stale(again, recorded):
                current = again
                if cancel_pending and not current.status.is_final:
                    current = _still_pending(current, row)
            else:  # still behind: keep the row, follow the order from what it records
                broker.adopt(recorded)
                result.adopted.append(recorded)
                result.events.append(
                    _event(
                        1,
                        f"order {row.client_order_id}: {row.status} with {row.filled_qty:g} "
                        f"filled in the database, the broker answered an earlier state "
                        f"({current.status}, {current.filled_qty:g} filled)",
                        "database kept; the order is followed until the broker catches up",
                    )
                )
                continue
        fill = missed_fill(row, current)
        if fill is not None:
            result.fills.append(fill)
            result.rows[row.client_order_id] = current  # written with its fill, later
        else:  # never back, as above
            audit.order_update_found(current, current.filled_qty)
        if current.status.is_open or current.cancel_pending:
            broker.adopt(current)
            result.adopted.append(current)
        confirmed = cancel_pending and current.status is OrderStatus.CANCELED
        if fill is not None or (current.row_status != row.status and not confirmed):
            result.events.append(
                _event(
                    1,
                    f"order {row.client_order_id}: {row.status} in the database, "
                    f"{current.status} at the broker",
                    "database updated from the broker",
                )
            )
    missed = list(result.fills)  # the earlier runs' orders' fills no session recorded yet
    lost = find_lost_orders(broker, audit, account_key, count_lost)
    result.fills += lost.fills
    result.rows.update(lost.rows)
    result.adopted += lost.adopted
    result.events += lost.events
    ours |= lost.ours
    foreign = [o for cid, o in broker_open.items() if cid not in ours]
    if foreign:
        names = ", ".join(f"{o.side} {o.qty:g} {o.symbol}" for o in foreign[:5])
        result.events.append(
            _event(
                len(foreign),
                f"{len(foreign)} open order(s) at the broker not placed by this desk: {names}",
                "left untouched; they count toward position limits",
            )
        )
    session_id = audit.session.id if audit.session else None
    snapshot = lost_rows.last_snapshot(account_key, session_id)
    if snapshot is not None:
        expected = _expected(account_key, snapshot, lost, missed)
        unsettled = snapshot.unsettled or frozenset()
        anchors = lost_rows.vouching_snapshots(account_key, session_id, unsettled)
        for symbol in unsettled:  # from the newest snapshot that vouches for it, if any
            anchor = anchors.get(symbol)
            from_anchor = _expected(account_key, anchor, lost, missed) if anchor else {}
            expected[symbol] = from_anchor.get(symbol, 0.0) if anchor else None
        result.positions = _position_differences(expected, broker.positions())
    return result


def _expected(
    account_key: str, snapshot: lost_rows.LastSnapshot, lost: Found, missed: list[Fill]
) -> dict[str, float | None]:
    """Symbol -> shares the account should hold from ``snapshot``: its positions, what the
    orders written back after it filled, the fills recorded after it and those this
    reconciliation found (``missed``: earlier runs' orders still open in the store, so none
    a snapshot vouching for their symbol holds)."""
    held = with_found_fills(snapshot.positions, lost, snapshot.timestamp)
    later = lost_rows.fills_after(account_key, snapshot)
    for fill in missed:
        later[fill.symbol] = later.get(fill.symbol, 0.0) + fill.qty * fill.side.sign
    return {p.symbol: p.qty for p in _moved(held, later)}


def positions_event(
    differences: dict[str, tuple[float, float]], said: Collection[str] = ()
) -> RiskEvent | None:
    """The event of the positions that differ from the last snapshot, leaving out the symbols
    another start-up event already speaks of (``said``: the outside-change comparison's, made
    with every recorded fill, the snapshot's and those since); ``None`` if none is left."""
    lines = [
        f"{symbol} {recorded:g} recorded vs {held:g} at the broker"
        for symbol, (recorded, held) in sorted(differences.items())
        if symbol not in said
    ]
    if not lines:
        return None
    return _event(
        len(lines),
        "positions differ from the last snapshot: " + "; ".join(lines),
        "trading continues from the broker's positions",
    )


def as_recorded(row: OpenOrderRow, current: Order) -> Order:
    """The broker's order as the row records it (status, filled quantity and price)."""
    if row.status == PENDING_CANCEL:
        status, pending = OrderStatus.CANCELED, True
    else:
        status, pending = OrderStatus(row.status), False
    return replace(
        current,
        status=status,
        filled_qty=row.filled_qty,
        filled_avg_price=row.filled_price,
        cancel_pending=pending,
        updated_at=None,
    )


def _still_pending(current: Order, row: OpenOrderRow) -> Order:
    """``current`` (working at the broker) as the cancel or replace its row awaits: cancelled,
    not confirmed, with the row's reason (``replaced by <client id>``: the broker follows that
    replacement, and once it ends unfilled the old order works on, ``brokers.alpaca_amend``).
    Without the reason, a replace the exchange rejected after this start left the old stop
    followed as cancelled for good while it worked: never resized, and a second stop sent
    beside it every cycle (refused for the shares the old one held)."""
    reason = row.error or current.reject_reason
    return replace(current, status=OrderStatus.CANCELED, cancel_pending=True, reject_reason=reason)


def replace_failed(broker: Broker, row: OpenOrderRow) -> bool:
    """Whether ``row`` (``pending_cancel``, ``replaced by`` another order) is an order whose
    replacement ended without a fill at the broker: the exchange rejected the replace and the
    old order works on (Alpaca's ``order_replace_rejected``). Kept ``pending_cancel``, it was
    followed as ended for good and the desk saw no stop beside the one still working. False
    when the replacement is not found or the broker does not answer (still in doubt)."""
    new = row.error.removeprefix("replaced by ")
    if not row.error or new == row.error:
        return False
    try:
        found = broker.get_order(new)
    except BrokerError:
        return False
    return found is not None and found.status.is_final and found.filled_qty <= 0


def missed_fill(row: OpenOrderRow, current: Order) -> Fill | None:
    """The execution that happened while no session was watching, if any, at the broker's
    time for it (``core.orders.fill_time``), not the time this start learned of it."""
    known_notional = row.filled_qty * (row.filled_price or 0.0)
    return fill_increment(current, row.filled_qty, known_notional, datetime.now(UTC))


def unsettled_order(row: OpenOrderRow) -> Order:
    """The row's order as the broker does not know it (yet): unsettled."""
    from tui_trader.core.orders import OrderType, Side

    return Order(
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        qty=row.quantity,
        order_type=OrderType(row.order_type),
        status=OrderStatus.UNKNOWN,
        filled_qty=row.filled_qty,
        filled_avg_price=row.filled_price,
        reject_reason="not found at the broker at start-up; looked up again until settled",
    )


def _moved(positions: list[Position], shares: dict[str, float]) -> list[Position]:
    """``positions`` moved by ``shares`` (symbol -> net shares bought, negative: sold)."""
    held = {p.symbol: p for p in positions}
    for symbol, moved in shares.items():
        was = held.get(symbol) or Position(symbol, 0.0, 0.0, 0.0)
        held[symbol] = Position(symbol, was.qty + moved, was.avg_entry_price, was.last_price)
    return list(held.values())


def _position_differences(
    want: dict[str, float | None], actual: dict[str, Position]
) -> dict[str, tuple[float, float]]:
    """Symbol -> (expected shares, broker's shares) where the two position books differ; a
    symbol expected ``None`` (no snapshot vouches for it) is not compared."""
    have = {s: p.qty for s, p in actual.items()}
    out = {}
    for symbol in sorted(set(want) | set(have)):
        a, b = want.get(symbol, 0.0), have.get(symbol, 0.0)
        if a is not None and abs(a - b) > 1e-9:
            out[symbol] = (a, b)
    return out


def _event(count: int, detail: str, action: str) -> RiskEvent:
    """A reconciliation event."""
    return RiskEvent(RECONCILIATION, float(count), 0.0, action, detail=detail)
