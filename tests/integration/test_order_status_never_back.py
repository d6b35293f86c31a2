"""An order's row never goes back to an earlier status at the same filled quantity.

Several desks follow an ended desk's order (``engine.reconcile``), and their views of it lag
one another: a stream behind another desk's, a REST look-up behind the stream (the sandbox's
``stale_rest``). The row of such an order is written only while it records no more filled than
the view says (the compare-and-set ``FOUND_FILL_UPDATE_SQL``, review29d, review29e), which kept
the quantity from going back, not the status: with the quantity unchanged, a lagging view wrote
``partially_filled`` or ``new`` over a row already ``canceled``, or ``pending_cancel`` over one
``filled`` (records30). The audit trail then showed a finished order as working (``tui-trader
report``, the desk's order list), and the next start followed it again. Now a final row
(filled, canceled, expired, rejected, not received) takes only a final view at that quantity,
and a filled one only ``filled``; a view with more filled still moves it on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import make_session
from tests.integration.test_followed_fill_cas import (
    WHEN,
    _ended_buy,
    _recorded,
    _two_desks,
    _update,
)
from tui_trader.core.orders import Order, OrderStatus, OrderUpdate
from tui_trader.engine.reconcile import missed_fill, reconcile, unsettled_order
from tui_trader.store.account_reads import open_order_row
from tui_trader.store.models import LiveOrder, SessionRow
from tui_trader.store.pg_url import PgUrl


def _status(cid: str) -> str:
    """The order's row's status, as the audit trail shows it."""
    return str(LiveOrder.get(LiveOrder.client_order_id == cid).status)


@pytest.mark.parametrize("late", ["partially_filled", "new", "pending_cancel"])
def test_a_cancelled_order_stays_cancelled_under_a_lagging_view(
    late: str, store: Path | PgUrl
) -> None:
    """The ended desk's buy fills 1 of 3 and is then cancelled (by hand, say): desk A hears
    the cancel and writes the row ``canceled`` at 1. Desk B's stream lags: it hears, after
    that, the order as it was before the cancel (the first share's update, its fill refused:
    A recorded it; or the order working, or the cancel requested). The row stays
    ``canceled`` with its 1 share, recorded once."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert a._apply_updates([_update(cid, 0, 1)]) == 1
    cancelled = replace(_update(cid, 1, 1, fill=False).order, status=OrderStatus.CANCELED)
    a._apply_updates([OrderUpdate(cancelled)])
    assert _status(cid) == "canceled"
    if late == "partially_filled":
        lagging = _update(cid, 0, 1)
    elif late == "new":
        lagging = OrderUpdate(replace(cancelled, status=OrderStatus.NEW))
    else:
        lagging = OrderUpdate(replace(cancelled, cancel_pending=True))
    assert b._apply_updates([lagging]) == 0
    assert _status(cid) == "canceled"
    assert _recorded(cid) == (1.0, 1.0, 1)


@pytest.mark.parametrize("late", ["canceled", "pending_cancel"])
def test_a_filled_order_stays_filled_under_a_lagging_cancel(late: str, store: Path | PgUrl) -> None:
    """The ended desk's buy fills whole (desk A records it: the row ``filled`` at 3); desk B
    then hears a cancel of it at the same 3 (a cancel request that lost to the fill, its
    answer reaching B late). The row stays ``filled``."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert a._apply_updates([_update(cid, 0, 3)]) == 1
    assert _status(cid) == "filled"
    view = replace(_update(cid, 3, 3, fill=False).order, status=OrderStatus.CANCELED)
    b._apply_updates([OrderUpdate(replace(view, cancel_pending=late == "pending_cancel"))])
    assert _status(cid) == "filled"
    assert _recorded(cid) == (3.0, 3.0, 1)


@pytest.mark.parametrize("view", ["new", "absent"])
def test_a_settlement_look_up_does_not_reopen_a_cancelled_order(
    view: str, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ended desk's buy was in doubt at both desks' starts; desk A's look-up found it
    cancelled with nothing filled; desk B's look-up a moment later gets a view that lags
    (``new``, nothing filled), or none at all past B's settlement window (``absent``: B
    would mark it ``not_received``, a guess from the broker's silence). The row stays
    ``canceled``, what the broker said."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    LiveOrder.update(status="unknown").where(LiveOrder.client_order_id == cid).execute()
    row = open_order_row(LiveOrder.get(LiveOrder.client_order_id == cid))
    b.unsettled.add(unsettled_order(row), WHEN - timedelta(hours=1), 0.0, None, seeded=True)
    nothing = _update(cid, 0, 0, fill=False).order
    a.audit.order_update_found(replace(nothing, status=OrderStatus.CANCELED), 0.0)
    assert _status(cid) == "canceled"
    lagging = replace(nothing, status=OrderStatus.NEW) if view == "new" else None
    monkeypatch.setattr(b.broker, "get_order", lambda _cid: lagging)
    monkeypatch.setattr(b.broker, "adopt", lambda _order: None)
    b._settle(WHEN)
    assert _status(cid) == "canceled"


def test_more_filled_still_moves_a_final_row_on(store: Path | PgUrl) -> None:
    """A row written ``canceled`` at 1 (a cancel the broker accepted) whose order filled a
    second share before the cancel took: the view at 2 moves the row on, its share recorded."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert a._apply_updates([_update(cid, 0, 1)]) == 1
    cancelled = replace(_update(cid, 1, 1, fill=False).order, status=OrderStatus.CANCELED)
    a._apply_updates([OrderUpdate(cancelled)])
    assert b._apply_updates([_update(cid, 1, 2)]) == 1
    assert _status(cid) == "partially_filled"
    assert _recorded(cid) == (2.0, 2.0, 2)


@pytest.mark.parametrize("broker_says", ["absent", "working"])
def test_a_start_reading_the_row_before_another_desk_moved_it_does_not_write_it_back(
    broker_says: str, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two desks start together over the ended desk's buy (its row ``new``, nothing filled).
    Desk A's start reads the row; desk B's start then finds the buy filled and records it
    (the row ``filled`` at 3); A's look-up of the buy answers late: not found yet (Alpaca's
    404 while it takes an order, ``absent``), or the earlier view, working with nothing
    filled (``working``). Before, A wrote what it had read over B's row, unconditionally:
    ``unknown`` or ``new`` with 0 filled, and the next start, taking the row for what was
    recorded, recorded the 3 shares a second time. Now the row keeps B's ``filled`` at 3."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    ended = LiveOrder.get(LiveOrder.client_order_id == cid).session
    SessionRow.update(status="stopped", account_key=a.account_key).where(
        SessionRow.id == ended.id
    ).execute()
    nothing = _update(cid, 0, 0, fill=False).order
    found = _update(cid, 0, 3)
    assert found.fill is not None

    def late(asked: str) -> Order | None:
        """A's look-up: B's start records the fill first; A's answer lags it."""
        if asked == cid and _recorded(cid)[2] == 0:
            assert b._record_with_row(found.order, found.fill)
        return None if broker_says == "absent" else replace(nothing, status=OrderStatus.NEW)

    monkeypatch.setattr(a.broker, "open_orders", lambda: [])
    monkeypatch.setattr(a.broker, "get_order", late)
    reconcile(a.broker, a.audit, a.account_key)
    assert (_status(cid), _recorded(cid)) == ("filled", (3.0, 3.0, 1))
    c = make_session(store, symbols=("SPY",))  # a start after both: nothing missing
    row = open_order_row(LiveOrder.get(LiveOrder.client_order_id == cid))
    missed = missed_fill(row, found.order)
    if missed is not None:
        c._record_with_row(found.order, missed)
    assert _recorded(cid) == (3.0, 3.0, 1)
