"""Protective exits a desk without exits cancelled before its own sell, by their rows: what a
start needs to put one back that the desk died before putting back.

A desk that keeps no exits cancels the stop an ended desk left before its sell, and places it
again if that sell does not go out (``engine.stop_release``); which stop waits on which sell
is held in memory only. Killed in between (``kill -9``, a crash, a lost machine), the desk
took that memory with it: the position stayed at the broker without its stop, and the next
start, keeping no exits either, said nothing. What the store holds is enough to find it
again: the stop's row, taken over by that desk before the cancel (its rationale says why:
``DROP_REASON``), and the desk's first order row in the symbol on the stop's side written
since the stop was placed, by row id, not by the desks' clocks (beside a working stop its
sells were held back, unwritten): the sell it was cancelled for (none if the desk died
before writing it).
``engine.stops_after_death`` decides what becomes of each.

A start that finds such a stop with nothing to put back (the position gone or turned short, its
sell filled, an exit working for the position, a newer exit placed since) marks its row
(``LEFT_AT_START``, ``leave_dropped``), so no later start reads it again. Before, the row stayed
a candidate for good: every start of a desk without exits read it again (two queries a row:
0.3 s a start with 1,000 such sessions on SQLite, 2.2 s with 5,000), and a later position in
the symbol (sold by hand, bought again weeks later) got that old stop back, at its old price.
"""

from __future__ import annotations

from dataclasses import dataclass

from peewee import fn

from tui_trader.core.orders import OrderType
from tui_trader.risk.stops import is_protective
from tui_trader.store.liveness import is_alive, store_now
from tui_trader.store.models import LiveOrder, SessionRow
from tui_trader.store.stop_rows import StopRow

DROP_REASON = "cancelled before this desk's sell: it keeps no exits"
"""Why a desk without exits took an ended desk's stop over (``take_stop_row`` appends it to
the stop's rationale, in the same commit that moves the row, before the cancel is sent)."""
DROPPED_NOTE = "before its sell: it keeps no exits"
"""How the row of a stop such a desk cancelled ends its error (``cancelled by session ...
before its sell: ...``), written once the cancel is confirmed: a stop it had put back and
cancelled again carries no ``DROP_REASON`` (it was not taken over again), only this."""
LEFT_AT_START = "; left at a start: "
"""What a dropped exit's rationale gains once a start found nothing for it to put back (and
why): no later start reads it again."""


@dataclass(frozen=True, slots=True)
class SellRow:
    """The order a dropped exit was cancelled for, as its row says."""

    client_order_id: str
    side: str
    quantity: float
    order_type: str
    limit_price: float | None
    status: str
    filled_qty: float


@dataclass(frozen=True, slots=True)
class DroppedExit:
    """A protective exit an ended desk cancelled before its sell, and that sell if written."""

    row: StopRow
    symbol: str
    sell: SellRow | None
    newer: bool = False
    """A newer protective exit in the symbol was placed since: nothing to put back (only
    marked ``LEFT_AT_START``)."""


def dropped_exits(account_key: str, session_id: int) -> list[DroppedExit]:
    """The exits of ``account_key`` that a session other than ``session_id``, now ended (or
    not beating), took over to cancel before its own sell, recorded cancelled with nothing
    filled, each the newest protective exit row of its symbol (a newer one: it was placed
    again, or another desk placed its own since), with the sell it was cancelled for: the
    session's first order row in the symbol on the exit's side written since the exit was
    placed, or the first of those that filled (``None``: it died before writing one). One
    that a newer protective exit of its symbol followed comes with ``newer`` (to be marked
    ``LEFT_AT_START``); one marked so is not read."""
    query = (
        LiveOrder.select(LiveOrder, SessionRow)
        .join(SessionRow)
        .where(
            (SessionRow.account_key == account_key)
            & (SessionRow.id != session_id)
            & (LiveOrder.status == "canceled")
            & (LiveOrder.filled_qty == 0)
            & (LiveOrder.rationale.contains(DROP_REASON) | LiveOrder.error.contains(DROPPED_NOTE))
            & ~fn.COALESCE(LiveOrder.rationale, "").contains(LEFT_AT_START)
        )
    )
    rows = [r for r in query if _protective(r)]
    if not rows:
        return []
    now = store_now(LiveOrder._meta.database)
    found = []
    for stop in rows:
        if is_alive(stop.session, now):
            continue  # that desk runs: it follows its own stop
        symbol = stop.symbol
        later = (
            LiveOrder.select(LiveOrder.client_order_id, LiveOrder.order_type)
            .join(SessionRow)
            .where(
                (LiveOrder.symbol == symbol)
                & (SessionRow.account_key == account_key)
                & (LiveOrder.id > stop.id)
            )
        )
        row = StopRow(stop.client_order_id, stop.order_type, stop.status, stop.session, False)
        if any(_protective(r) for r in later):  # placed again since, or another desk's exit
            found.append(DroppedExit(row, symbol, None, newer=True))
            continue
        sells = (
            LiveOrder.select()
            .where(
                (LiveOrder.session == stop.session.id)
                & (LiveOrder.symbol == symbol)
                & (LiveOrder.side == stop.side)
            )
            .order_by(LiveOrder.id)
        )
        # The sells written since the stop was placed: beside it, working, the desk's sells
        # were held back unwritten, so the first is the one it was cancelled for. "Since" by
        # the rows' ids, which the store hands out in the order rows are written: their
        # times come from each desk's own clock, and the stop's desk may have run on another
        # machine (a clock ahead hid the sell, a clock behind showed an older one).
        after = [r for r in sells if not _protective(r) and r.id > stop.id]
        sold = [r for r in after if r.filled_qty > 0]  # one sold: the stop's work was done
        sell = sold[0] if sold else (after[0] if after else None)
        found.append(DroppedExit(row, symbol, _sell(sell)))
    return found


def leave_dropped(row: StopRow, why: str) -> bool:
    """Mark ``row``, a dropped exit a start found nothing to put back for, so that no later
    start reads it again (its rationale gains ``LEFT_AT_START`` and ``why``); only while it
    still names the session it was read with (another start may have taken it over). True if
    this call marked it."""
    changed = (
        LiveOrder.update(rationale=fn.COALESCE(LiveOrder.rationale, "").concat(LEFT_AT_START + why))
        .where(
            (LiveOrder.client_order_id == row.client_order_id)
            & (LiveOrder.session == row.session.id)
            & ~fn.COALESCE(LiveOrder.rationale, "").contains(LEFT_AT_START)
        )
        .execute()
    )
    return changed == 1


def _protective(row: LiveOrder) -> bool:
    """Whether the row is a protective exit's (by its client id and type; a type no release
    wrote is not one)."""
    try:
        kind = OrderType(row.order_type)
    except ValueError:
        return False
    return is_protective(row.client_order_id, kind)


def _sell(row: LiveOrder | None) -> SellRow | None:
    """A sell's row as ``SellRow``."""
    if row is None:
        return None
    return SellRow(
        row.client_order_id,
        row.side,
        row.quantity,
        row.order_type,
        row.limit_price,
        row.status,
        row.filled_qty,
    )
