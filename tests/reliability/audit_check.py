"""Order by order: the broker's orders against the audit database, and the figures that come out.

The broker's word is the sandbox's order listing (``GET /v2/orders?status=all`` through
alpaca-py, faults switched off first); the audit trail is ``live_orders`` and ``live_fills``.
For every trial the suite counts:

- **duplicates**: two broker orders for one ``client_order_id``, for one intent (one session's
  cycle and symbol: ``tt-<session>-<iteration>-<symbol>-<leg>``), or for one audit row; and an
  order sent while an earlier one for the same symbol and side was still unsettled in the audit
  trail and reached the broker only after it (both filled: the exposure was bought twice);
- **lost**: broker orders with no row in the audit trail;
- **mismatches**: a row whose status or filled quantity differs from the broker's, a row whose
  fills do not add up to its filled quantity, a row that claims a fill the broker never made;
- **integrity**: ``PRAGMA integrity_check`` is not ``ok``.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui_trader.sandbox.testing import SandboxHandle

BROKER_STATUS = {
    "new": "new",
    "accepted": "new",
    "pending_new": "new",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "canceled",
    "pending_cancel": "pending_cancel",
    "expired": "expired",
    "rejected": "rejected",
    "replaced": "canceled",
}
"""Alpaca's order states as the audit trail writes them (an accepted order is ``new``, a
replaced one ``canceled``: its replacement is the order that works on)."""
UNSETTLED = {"pending_new", "unknown"}
"""Audit states that mean "sent, or about to be, with no word from the broker yet"."""
QTY_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """What the broker says about one order."""

    client_order_id: str
    broker_id: str
    symbol: str
    side: str
    qty: float
    status: str
    filled_qty: float
    created_at: datetime


@dataclass(slots=True)
class Figures:
    """What one trial (or the whole suite) counted."""

    trials: int = 0
    broker_orders: int = 0
    duplicates: int = 0
    lost: int = 0
    mismatches: int = 0
    integrity_failures: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What happened in the trials (moments of the kills, orders under each fault...)."""

    def add(self, other: Figures) -> None:
        """Add another trial's counts to these."""
        self.trials += other.trials
        self.broker_orders += other.broker_orders
        self.duplicates += other.duplicates
        self.lost += other.lost
        self.mismatches += other.mismatches
        self.integrity_failures += other.integrity_failures
        self.problems.extend(other.problems)
        self.notes.extend(other.notes)

    @property
    def clean(self) -> bool:
        """Nothing wrong was found."""
        return not (self.duplicates or self.lost or self.mismatches or self.integrity_failures)

    def summary(self) -> str:
        """One line with the counts."""
        return (
            f"trials={self.trials} broker_orders={self.broker_orders} "
            f"duplicates={self.duplicates} lost={self.lost} mismatches={self.mismatches} "
            f"integrity_failures={self.integrity_failures}"
        )


def broker_orders(sb: SandboxHandle) -> list[BrokerOrder]:
    """Every order the sandbox has, whatever its status (faults must be off)."""
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    from tests.reliability.harness import trading_client

    client = trading_client(sb)
    raw = client.get_orders(filter=GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500))
    assert len(raw) < 500, "more orders than one listing shows: the trial is too long"
    return [
        BrokerOrder(
            client_order_id=str(o.client_order_id),
            broker_id=str(o.id),
            symbol=str(o.symbol),
            side=str(getattr(o.side, "value", o.side)),
            qty=float(o.qty or 0),
            status=str(getattr(o.status, "value", o.status)),
            filled_qty=float(o.filled_qty or 0),
            created_at=o.created_at,
        )
        for o in raw
    ]


def integrity_ok(db: Path) -> str:
    """``PRAGMA integrity_check``'s answer (``ok`` when the file is whole)."""
    con = sqlite3.connect(db, timeout=10)
    try:
        return str(con.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        con.close()


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One ``live_orders`` row with the fills recorded for it."""

    client_order_id: str
    broker_order_id: str | None
    symbol: str
    side: str
    quantity: float
    status: str
    filled_qty: float
    fills: float
    timestamp: datetime


def audit_rows(db: Path) -> dict[str, AuditRow]:
    """Every order row of the database by client order id."""
    con = sqlite3.connect(db, timeout=10)
    try:
        rows = con.execute(
            "SELECT o.client_order_id, o.broker_order_id, o.symbol, o.side, o.quantity, "
            "o.status, o.filled_qty, COALESCE((SELECT SUM(f.quantity) FROM live_fills f "
            "WHERE f.order_id = o.id), 0), o.timestamp FROM live_orders o"
        ).fetchall()
    finally:
        con.close()
    out = {}
    for cid, bid, sym, side, qty, status, filled, fills, ts in rows:
        stamp = datetime.fromisoformat(str(ts)).replace(tzinfo=UTC)
        out[cid] = AuditRow(cid, bid, sym, side, qty, status, filled or 0.0, fills, stamp)
    return out


SPLIT = ["c", "o"]
"""The legs of a rebalance through zero (closing, opening): two orders for one intent."""


OWN_INTENT = re.compile(r"^(ps|m)\d+$")
"""Legs that are decisions of their own, numbered once a session: a protective exit
(``ps<n>``: placed, resized, placed again) and an order placed by hand (``m<n>``). Sent in
the cycle of a rebalance in the same symbol, neither is a second order for the rebalance."""


def intent(client_order_id: str) -> tuple[str, ...]:
    """(session, cycle, symbol) of a desk order id ``tt-<session>-<iter>-<symbol>-<leg>``: what
    one decision meant to do; a foreign id, a protective exit's and a hand order's are each
    their own intent."""
    parts = client_order_id.split("-")
    if len(parts) != 5 or parts[0] != "tt" or OWN_INTENT.match(parts[4]):
        return (client_order_id,)
    return tuple(parts[1:4])


def extra_orders(cids: list[str]) -> int:
    """How many of these orders (one intent's) are more than the intent needs: one order, or
    the two legs of a split through zero."""
    legs = sorted(cid.rsplit("-", 1)[-1] for cid in cids)
    return len(legs) - (2 if legs == SPLIT else 1)


def compare(sb: SandboxHandle, db: Path, in_doubt: dict[str, AuditRow] | None = None) -> Figures:
    """Count duplicates, lost orders, mismatches and integrity for one database and account.

    ``in_doubt`` are rows that were unsettled when their process was killed (pending_new or
    unknown): an order for the same symbol and side sent after one of them was written and
    before the broker had it, both filled, is a duplicate of its intent.
    """
    figures = Figures(trials=1)
    orders = broker_orders(sb)
    rows = audit_rows(db)
    figures.broker_orders = len(orders)
    integrity = integrity_ok(db)
    if integrity != "ok":
        figures.integrity_failures += 1
        figures.problems.append(f"integrity_check: {integrity}")
    by_cid = Counter(o.client_order_id for o in orders)
    by_intent: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for o in orders:
        by_intent[intent(o.client_order_id)].append(o.client_order_id)
    by_row = Counter(r.broker_order_id for r in rows.values() if r.broker_order_id)
    for cid, n in by_cid.items():
        if n > 1:
            figures.duplicates += n - 1
            figures.problems.append(f"{n} broker orders with client_order_id {cid}")
    for key, cids in by_intent.items():
        extra = extra_orders(cids) if len(key) > 1 else 0  # a foreign id: counted above
        if extra > 0:
            figures.duplicates += extra
            figures.problems.append(f"{len(cids)} broker orders for one intent {key}: {cids}")
    for bid, n in by_row.items():
        if n > 1:
            figures.duplicates += n - 1
            figures.problems.append(f"{n} audit rows name broker order {bid}")
    figures.duplicates += _doubled_intents(orders, rows, in_doubt or {}, figures.problems)
    at_broker = {o.client_order_id: o for o in orders}
    for order in orders:
        row = rows.get(order.client_order_id)
        if row is None:
            figures.lost += 1
            figures.problems.append(
                f"lost: broker order {order.client_order_id} ({order.side} {order.qty:g} "
                f"{order.symbol}, {order.status}) has no audit row"
            )
            continue
        figures.mismatches += _row_mismatch(row, order, figures.problems)
    for cid, row in rows.items():
        if cid in at_broker:
            continue
        if (
            row.filled_qty > QTY_EPS
            or row.fills > QTY_EPS
            or row.status
            in (
                "new",
                "partially_filled",
                "filled",
            )
        ):
            figures.mismatches += 1
            figures.problems.append(
                f"mismatch: {cid} is {row.status} with {row.filled_qty:g} filled in the audit "
                "trail, unknown to the broker"
            )
    return figures


def _row_mismatch(row: AuditRow, order: BrokerOrder, problems: list[str]) -> int:
    """1 (and a problem line) if the row disagrees with the broker's order, else 0."""
    want = BROKER_STATUS.get(order.status, order.status)
    wrong = []
    if row.status == "pending_cancel" and want in ("canceled", "pending_cancel"):
        pass  # a cancel Alpaca accepted, its word not yet read: the next start settles it
    elif row.status != want:
        wrong.append(f"status {row.status} vs {order.status} at the broker")
    if abs(row.filled_qty - order.filled_qty) > QTY_EPS:
        wrong.append(f"filled {row.filled_qty:g} vs {order.filled_qty:g} at the broker")
    if abs(row.fills - order.filled_qty) > QTY_EPS:
        wrong.append(f"fills recorded {row.fills:g} vs {order.filled_qty:g} at the broker")
    if not wrong:
        return 0
    problems.append(f"mismatch: {row.client_order_id}: " + "; ".join(wrong))
    return 1


def _doubled_intents(
    orders: list[BrokerOrder],
    rows: dict[str, AuditRow],
    in_doubt: dict[str, AuditRow],
    problems: list[str],
) -> int:
    """Orders sent while an earlier same-symbol, same-side order was in doubt and invisible."""
    by_key: dict[tuple[str, str], list[BrokerOrder]] = defaultdict(list)
    for order in orders:
        if order.filled_qty > QTY_EPS:
            by_key[(order.symbol, order.side)].append(order)
    found = 0
    for cid, doubtful in in_doubt.items():
        first = next((o for o in orders if o.client_order_id == cid), None)
        if first is None or first.filled_qty <= QTY_EPS:
            continue
        for other in by_key[(first.symbol, first.side)]:
            row = rows.get(other.client_order_id)
            if other is first or row is None:
                continue
            if doubtful.timestamp < row.timestamp < first.created_at:
                found += 1
                problems.append(
                    f"duplicate intent: {other.client_order_id} ({other.side} {other.qty:g} "
                    f"{other.symbol}) was sent while {cid} was in doubt, before the broker had "
                    "it; both filled"
                )
    return found


def in_doubt_rows(db: Path, session_key: str) -> dict[str, AuditRow]:
    """A killed session's rows that were unsettled at the kill (sent, or about to be)."""
    return {
        cid: row
        for cid, row in audit_rows(db).items()
        if row.status in UNSETTLED and cid.startswith(f"tt-{session_key}-")
    }


def describe(figures: Figures, limit: int = 12) -> str:
    """The counts and the first problems, for an assertion message."""
    lines = [figures.summary(), *figures.problems[:limit]]
    if len(figures.problems) > limit:
        lines.append(f"... and {len(figures.problems) - limit} more")
    return "\n".join(lines)


def as_json(figures: Figures) -> dict[str, Any]:
    """The counts as plain JSON (problems as text)."""
    return {
        "trials": figures.trials,
        "broker_orders": figures.broker_orders,
        "duplicates": figures.duplicates,
        "lost": figures.lost,
        "mismatches": figures.mismatches,
        "integrity_failures": figures.integrity_failures,
        "problems": figures.problems,
        "notes": figures.notes,
    }


def compare_local(db: Path) -> Figures:
    """A local database after kills: whole, and every row's fills add up to what it says.

    A local session's broker lives and dies with its process, so there is no broker to ask;
    what must hold is that the audit trail agrees with itself: a cycle is written whole or not
    at all.
    """
    figures = Figures(trials=1)
    integrity = integrity_ok(db)
    if integrity != "ok":
        figures.integrity_failures += 1
        figures.problems.append(f"integrity_check: {integrity}")
    rows = audit_rows(db)
    intents: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for cid in rows:
        intents[intent(cid)].append(cid)
    for key, cids in intents.items():
        extra = extra_orders(cids) if len(key) > 1 else 0
        if extra > 0:
            figures.duplicates += extra
            figures.problems.append(f"{len(cids)} order rows for one intent {key}: {cids}")
    for cid, row in rows.items():
        wrong = []
        if abs(row.fills - row.filled_qty) > QTY_EPS:
            wrong.append(f"fills add up to {row.fills:g}, row says {row.filled_qty:g}")
        if row.status == "filled" and abs(row.filled_qty - row.quantity) > QTY_EPS:
            wrong.append(f"filled with {row.filled_qty:g} of {row.quantity:g}")
        if wrong:
            figures.mismatches += 1
            figures.problems.append(f"mismatch: {cid}: " + "; ".join(wrong))
    return figures
