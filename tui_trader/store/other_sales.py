"""Another session's orders and fills in a symbol, read from the store before a desk places a
protective exit there (``engine.sales_beside`` says why).

Two reads, no broker call: the account's other live sessions' order rows in the symbol that
still work (a row is written before its order is sent, so every order of theirs at the broker
has one), and whether one of their fills in the symbol was recorded after a given fill id (the
newest one, read just before the desk read the broker's positions: such a fill may not be in
that reading).
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from tui_trader.store.account_reads import OPEN_STATUSES
from tui_trader.store.liveness import is_alive, store_now
from tui_trader.store.models import LiveFill, LiveOrder, SessionRow


@dataclass(frozen=True, slots=True)
class WorkingRow:
    """One working order of another live session, as its row says."""

    client_order_id: str
    side: str
    order_type: str
    remaining: float
    """Shares not filled yet (the row's quantity less its recorded fills)."""


def newest_fill_id() -> int:
    """The newest fill row's id (0 with none): read just before the broker's positions."""
    return int(LiveFill.select(fn.COALESCE(fn.MAX(LiveFill.id), 0)).scalar() or 0)


def working_rows(account_key: str, symbol: str, session_id: int) -> list[WorkingRow]:
    """The working order rows in ``symbol`` of the other sessions of ``account_key`` that are
    alive (a dead session's rows are reconciled, not followed: they may be long stale)."""
    query = (
        LiveOrder.select(LiveOrder, SessionRow)
        .join(SessionRow)
        .where(
            (SessionRow.account_key == account_key)
            & (LiveOrder.symbol == symbol)
            & (SessionRow.id != session_id)
            & LiveOrder.status.in_(OPEN_STATUSES)
        )
    )
    rows = list(query)
    if not rows:
        return []
    now = store_now(LiveOrder._meta.database)
    return [
        WorkingRow(o.client_order_id, o.side, o.order_type, max(o.quantity - o.filled_qty, 0.0))
        for o in rows
        if is_alive(o.session, now)
    ]


def filled_since(account_key: str, symbol: str, session_id: int, since: int) -> bool:
    """Whether another session of ``account_key`` recorded a fill in ``symbol`` with an id
    after ``since``."""
    return (
        LiveFill.select(LiveFill.id)
        .join(SessionRow)
        .where(
            (LiveFill.id > since)
            & (LiveFill.symbol == symbol)
            & (SessionRow.account_key == account_key)
            & (SessionRow.id != session_id)
        )
        .exists()
    )


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
