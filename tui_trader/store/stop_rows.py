"""Whose a protective exit working at the broker is, by its row in this store, and handing its
row to the session that takes it over (``engine.stop_takeover`` says why).

A desk's stop outlives the desk: killed, or stopped without flattening, its GTC stop still
holds the position's shares at the broker. The session that takes the symbol over takes the
stop over too; the stop's row says which session it belongs to now. Moving the row to the new
session is the take: one conditional ``UPDATE`` that succeeds only while the row still names
the session it was read with, so of two desks that want the same stop exactly one gets it (on
PostgreSQL the second waits for the first's row lock, then finds the row moved), and a start-up
reconciliation after it sees the order of a session still running, not an ended one's to
adopt again. The row keeps its history: its rationale says from which session it came.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from peewee import fn

from tui_trader.core.order_ids import short_key
from tui_trader.core.orders import OrderType
from tui_trader.store.account_reads import OPEN_STATUSES, record_died
from tui_trader.store.db import to_db_time
from tui_trader.store.liveness import is_alive, store_now
from tui_trader.store.models import LiveOrder, SessionRow


@dataclass(frozen=True, slots=True)
class StopRow:
    """An order row of one of the account's sessions, and that session as read."""

    client_order_id: str
    order_type: str
    status: str
    """What the row says of the order (``pending_cancel``: a cancel or replace under way)."""
    session: SessionRow
    alive: bool
    """Whether that session runs with a fresh heartbeat (``store.liveness``)."""


def stop_rows(account_key: str, client_order_ids: Iterable[str]) -> dict[str, StopRow]:
    """The rows of these orders (working at the broker) that sessions of ``account_key`` in
    this store sent, by client order id, whatever they say of the order (a local session's
    rows are recorded ended when it dies); an order without one here (another store's desk,
    another account's, a row lost) is absent. One query, and one clock reading on PostgreSQL."""
    cids = list(client_order_ids)
    if not cids:
        return {}
    return _rows(LiveOrder.client_order_id.in_(cids), account_key)


def symbol_rows(account_key: str, symbol: str, session_id: int) -> dict[str, StopRow]:
    """The open order rows in ``symbol`` of the other sessions of ``account_key`` in this
    store, by client order id (a symbol taken over: what its last holder left working)."""
    mine = (LiveOrder.symbol == symbol) & (SessionRow.id != session_id)
    return _rows(mine & LiveOrder.status.in_(OPEN_STATUSES), account_key)


def _rows(which: Any, account_key: str) -> dict[str, StopRow]:
    """The order rows ``which`` selects among the sessions of ``account_key``."""
    query = (
        LiveOrder.select(
            LiveOrder.client_order_id, LiveOrder.order_type, LiveOrder.status, SessionRow
        )
        .join(SessionRow)
        .where(which & (SessionRow.account_key == account_key))
    )
    rows = list(query)
    if not rows:
        return {}
    now = store_now(LiveOrder._meta.database)
    return {
        o.client_order_id: StopRow(
            o.client_order_id, o.order_type, o.status, o.session, is_alive(o.session, now)
        )
        for o in rows
    }


def take_stop_row(row: StopRow, session_id: int, why: str, now: object) -> bool:
    """Make ``row``'s order the session ``session_id``'s if the row still names the session it
    was read with (that session recorded ``died`` first if its row still says ``running``: it
    stops should it wake); its rationale gains ``why``. True if this call took it."""
    old = row.session
    if old.status == "running" and not record_died(old):
        return False  # it beat since: alive after all, its stop stays its own
    note = f"; taken over from session {short_key(old.key)}: {why}"
    changed = (
        LiveOrder.update(
            session=session_id,
            rationale=fn.COALESCE(LiveOrder.rationale, "").concat(note),
            updated_at=to_db_time(now),  # type: ignore[arg-type]
        )
        .where((LiveOrder.client_order_id == row.client_order_id) & (LiveOrder.session == old.id))
        .execute()
    )
    return changed == 1


def row_order_type(text: str) -> OrderType:
    """A row's order type (a hand edit that is none: a market order, never an exit)."""
    try:
        return OrderType(text)
    except ValueError:
        return OrderType.MARKET
