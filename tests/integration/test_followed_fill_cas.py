"""An ended desk's fills recorded once, and its order's row never written back, when several
desks follow the order.

Every desk started since a desk ended follows the orders it left working (``engine.reconcile``),
so each hears the same fills. A fill the stream brings of an order another session sent is
recorded while the order's recorded fills stay within what the broker filled (``crash29``,
``AuditLog.fill``'s ``upto``); one a start or a settlement finds is recorded with its row, only
while the row records no more filled than the fill starts from (the compare-and-set
``FOUND_FILL_UPDATE_SQL``, ``fills28``, review29a). These tests drive desks'
``_apply_updates`` and ``_record_with_row`` with the broker's updates of one 3-share buy that
fills a share at a time, in the orders streams can bring them, on a SQLite file and on
PostgreSQL: each share recorded once, the row ending at the broker's filled quantity.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import make_session
from tui_trader.core.order_ids import make_order_id
from tui_trader.core.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
)
from tui_trader.engine.reconcile import missed_fill, unsettled_order
from tui_trader.engine.session import TradingSession
from tui_trader.store.account_reads import open_order_row
from tui_trader.store.models import LiveFill, LiveOrder, LiveTrade
from tui_trader.store.pg_url import PgUrl

BUY = 3.0
"""The ended desk's buy: it fills a share at a time."""
WHEN = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


def _ended_buy(desk: TradingSession) -> str:
    """The row of a 3-share SPY buy an ended session sent, nothing filled yet; its client id."""
    audit = desk.audit
    own = audit.session
    ended = audit.start_session("local", "paper", None, "test", ("SPY",), {})
    audit.session = own  # the desk's own session stays the desk's
    cid = make_order_id(ended.key, 1, "SPY", "b")
    request = OrderRequest("SPY", Side.BUY, BUY, cid, rationale="the ended desk's buy")
    audit.order_pending(request, 1, WHEN)
    LiveOrder.update(session=ended.id, status="new", broker_order_id="b-1").where(
        LiveOrder.client_order_id == cid
    ).execute()
    return cid


def _update(cid: str, before: float, after: float, fill: bool = True) -> OrderUpdate:
    """The broker's update of the buy at ``after`` filled; with the fill of the shares from
    ``before`` (as a desk that knew ``before`` filled computes it, ``fill_increment``)."""
    status = OrderStatus.FILLED if after >= BUY else OrderStatus.PARTIALLY_FILLED
    order = Order(
        cid,
        "SPY",
        Side.BUY,
        BUY,
        OrderType.MARKET,
        status,
        filled_qty=after,
        filled_avg_price=100.0,
        broker_order_id="b-1",
    )
    if not fill:
        return OrderUpdate(order)
    shares = after - before
    return OrderUpdate(
        order, Fill(cid, "SPY", Side.BUY, shares, 100.0, WHEN, fill_id=f"b-1:{after:g}")
    )


def _recorded(cid: str) -> tuple[float, float, int]:
    """The buy's row's filled quantity, the shares its fills add up to, and how many fills."""
    row = LiveOrder.get(LiveOrder.client_order_id == cid)
    fills = [float(f.quantity) for f in LiveFill.select().where(LiveFill.order == row.id)]
    return float(row.filled_qty), sum(fills), len(fills)


def _two_desks(store: Path | PgUrl) -> tuple[TradingSession, TradingSession]:
    """Two desks of one store (the ended desk's row written after both started)."""
    return make_session(store, symbols=("SPY",)), make_session(store, symbols=("SPY",))


def test_different_partial_fills_heard_by_two_desks_are_each_recorded_once(
    store: Path | PgUrl,
) -> None:
    """Desk A hears the first share, desk B (which knew of it) the second, A the third, and
    each desk also hears the fills the other recorded: 3 shares recorded, 3 fills, the row
    at 3."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert a._apply_updates([_update(cid, 0, 1)]) == 1
    assert b._apply_updates([_update(cid, 1, 2)]) == 1
    assert a._apply_updates([_update(cid, 1, 2)]) == 0  # B's: not again
    assert a._apply_updates([_update(cid, 2, 3)]) == 1
    assert b._apply_updates([_update(cid, 2, 3)]) == 0  # A's: not again
    assert _recorded(cid) == (3.0, 3.0, 3)


def test_a_fill_starting_behind_the_row_is_not_recorded_again(store: Path | PgUrl) -> None:
    """Desk B recorded the first two shares as one fill (it heard of the order at 2 filled);
    desk A, late, hears the first share (its fill starts at 0, the row is at 2): dropped, the
    row not moved back; then the second share, from 1: dropped too; the third from 2:
    recorded. A start's look-up finding the first share (the compare-and-set's own
    safeguard, the row ahead of the fill's start): not recorded either."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert b._apply_updates([_update(cid, 0, 2)]) == 1
    assert a._apply_updates([_update(cid, 0, 1)]) == 0
    assert _recorded(cid) == (2.0, 2.0, 1)
    assert a._apply_updates([_update(cid, 1, 2)]) == 0
    assert a._apply_updates([_update(cid, 2, 3)]) == 1
    assert _recorded(cid) == (3.0, 3.0, 2)
    first = _update(cid, 0, 1)
    assert first.fill is not None
    assert not a._record_with_row(first.order, first.fill)
    assert _recorded(cid) == (3.0, 3.0, 2)


def test_a_fill_starting_ahead_of_the_row_is_recorded(store: Path | PgUrl) -> None:
    """A row behind the fill's start (an order followed from the broker's view, its row not
    brought up) still takes the fill: no desk recorded it; the row goes to the broker's."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    found = _update(cid, 1, 2)  # as a start's look-up finds it: with its row
    assert found.fill is not None
    assert b._record_with_row(found.order, found.fill)
    assert _recorded(cid) == (2.0, 1.0, 1)
    assert a._apply_updates([_update(cid, 2, 3)]) == 1
    assert _recorded(cid) == (3.0, 2.0, 2)


@pytest.mark.parametrize("with_fill", [False, True], ids=["cancel", "fill"])
def test_a_lagging_desks_update_does_not_move_the_row_back(
    with_fill: bool, store: Path | PgUrl
) -> None:
    """Desk A recorded the first share; desk B the second (the row at 2). A, whose stream
    lags, then hears the order at 1 filled: the cancel request of the rest, sent between the
    two fills (``cancel``), or the first share again as a fill of its own from 0 (``fill``:
    A restarted its view). Before, that update wrote the row back to 1 filled,
    unconditionally; a later start's reconciliation, taking what the row records as what was
    recorded (``engine.reconcile.missed_fill``), then found the second share missing and
    recorded it again: 3 shares recorded for 2 filled. Now the row keeps its 2."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert a._apply_updates([_update(cid, 0, 1)]) == 1
    assert b._apply_updates([_update(cid, 1, 2)]) == 1
    if with_fill:
        late = _update(cid, 0, 1)
    else:
        late = _update(cid, 1, 1, fill=False)
        late = OrderUpdate(replace(late.order, status=OrderStatus.CANCELED, cancel_pending=True))
    assert a._apply_updates([late]) == 0
    assert _recorded(cid) == (2.0, 2.0, 2)
    c = make_session(store, symbols=("SPY",))  # a start finding the order still working
    row = open_order_row(LiveOrder.get(LiveOrder.client_order_id == cid))
    working = _update(cid, 1, 2).order
    missed = missed_fill(row, working)
    if missed is not None:
        c._record_with_row(working, missed)
    assert _recorded(cid) == (2.0, 2.0, 2)


def test_a_fill_overlapping_one_recorded_records_the_rest(store: Path | PgUrl) -> None:
    """Desk A records the first share (0 to 1) and stops before the second comes; desk B,
    whose stream missed the first (it reads the order at 2 filled from 0), hears both shares
    as one fill. Before, that fill was refused whole (its 2 shares with the 1 recorded went
    past the broker's 2), the row went to 2, and no start found anything missing: the second
    share was never recorded. Now B records the rest, 1 share, at its own price."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert a._apply_updates([_update(cid, 0, 1)]) == 1
    both = _update(cid, 0, 2)
    assert both.fill is not None
    both = OrderUpdate(replace(both.order, filled_avg_price=101.0), replace(both.fill, price=101.0))
    assert b._apply_updates([both]) == 1
    assert _recorded(cid) == (2.0, 2.0, 2)
    prices = sorted(float(f.price) for f in LiveFill.select())
    assert prices == [100.0, 102.0]  # the second share's: 2 at 101 less the first at 100
    assert b._apply_updates([both]) == 0  # heard again: nothing more
    assert _recorded(cid) == (2.0, 2.0, 2)


def test_the_part_another_desk_recorded_enters_the_ledger_at_its_own_price(
    store: Path | PgUrl,
) -> None:
    """As above: desk A records the first share at 100, desk B hears both shares as one fill
    at their average, 101, and records the second at 102. B's ledger takes the first share,
    the one A recorded, at what it cost: 100, so that B's two shares cost 202 as at the
    broker. Before, it took it at the heard fill's average (101): B's lot cost 203, and its
    round trip selling both at 105 said 7.00 realized where the broker made 8.00."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    assert a._apply_updates([_update(cid, 0, 1)]) == 1
    both = _update(cid, 0, 2)
    assert both.fill is not None
    both = OrderUpdate(replace(both.order, filled_avg_price=101.0), replace(both.fill, price=101.0))
    assert b._apply_updates([both]) == 1
    own = b.audit.session
    assert own is not None
    sell = make_order_id(own.key, 2, "SPY", "s")  # B's own sell of both, at 105
    b.audit.order_pending(OrderRequest("SPY", Side.SELL, 2.0, sell, rationale="a sell"), 2, WHEN)
    assert b._record_fill(Fill(sell, "SPY", Side.SELL, 2.0, 105.0, WHEN, fill_id="b-2:2"))
    [trip] = LiveTrade.select().where(LiveTrade.session == own.id)
    assert (float(trip.quantity), float(trip.entry_price)) == (2.0, pytest.approx(101.0))
    assert float(trip.pnl) == pytest.approx(8.0)
    assert b.realized_pnl == pytest.approx(8.0)


@pytest.mark.parametrize("whose", ["another-desks", "own"])
def test_a_settlement_look_up_behind_the_row_does_not_move_it_back(
    whose: str, store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ended desk's buy was in doubt at both desks' starts (its row ``unknown``); desk A's
    look-up found it with 2 filled and recorded them; desk B's look-up a moment later gets a
    view of the order that lags (a REST read behind the stream: the sandbox's ``stale_rest``),
    working with nothing filled. Before, B wrote that view to the row, unconditionally: 0
    filled again, and a start after B (killed before its stream brought it back) recorded the
    2 shares a second time, 4 recorded for 2 filled. Now the row keeps its 2. ``own``: B's
    own buy in doubt (its answer lost), whose fill B's stream recorded before the look-up:
    the same."""
    a, b = _two_desks(store)
    if whose == "own":
        own = b.audit.session
        assert own is not None
        cid = make_order_id(own.key, 1, "SPY", "b")
        b.audit.order_pending(OrderRequest("SPY", Side.BUY, BUY, cid, rationale="B's"), 1, WHEN)
        b.unsettled.add(_update(cid, 0, 0, fill=False).order, WHEN, now=WHEN)
        assert b._apply_updates([_update(cid, 0, 2)]) == 1  # its stream: 2 filled
    else:
        cid = _ended_buy(a)
        LiveOrder.update(status="unknown").where(LiveOrder.client_order_id == cid).execute()
        row = open_order_row(LiveOrder.get(LiveOrder.client_order_id == cid))
        b.unsettled.add(unsettled_order(row), WHEN, 0.0, None, seeded=True)
        found = _update(cid, 0, 2)  # desk A's start: found with 2 filled
        assert found.fill is not None
        assert a._record_with_row(found.order, found.fill)
    lagging = replace(_update(cid, 0, 0, fill=False).order, status=OrderStatus.NEW)
    monkeypatch.setattr(b.broker, "get_order", lambda _cid: lagging)
    monkeypatch.setattr(b.broker, "adopt", lambda _order: None)
    b._settle(WHEN)
    assert not b.unsettled
    assert _recorded(cid) == (2.0, 2.0, 1)
    c = make_session(store, symbols=("SPY",))  # a start finding the order filled
    row = open_order_row(LiveOrder.get(LiveOrder.client_order_id == cid))
    working = _update(cid, 0, 2).order
    missed = missed_fill(row, working)
    if missed is not None:
        c._record_with_row(working, missed)
    assert _recorded(cid) == (2.0, 2.0, 1)


def test_a_found_fill_overlapping_one_recorded_records_the_rest(
    store: Path | PgUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ended desk's buy was in doubt at both desks' starts; desk A's start found it
    working with nothing filled and A's stream recorded its first share (0 to 1, at 100); desk
    B's look-up then finds it with 2 filled (at 101 average), a fill from 0 to 2. Before, the
    row's compare-and-set (at 1, not 0) refused it whole: the second share was not recorded,
    and waited for a later start to find it (A stopped before hearing it). Now B records the
    rest no desk recorded, 1 share at 102; found again, nothing more."""
    a, b = _two_desks(store)
    cid = _ended_buy(a)
    LiveOrder.update(status="unknown").where(LiveOrder.client_order_id == cid).execute()
    row = open_order_row(LiveOrder.get(LiveOrder.client_order_id == cid))
    b.unsettled.add(unsettled_order(row), WHEN, 0.0, None, seeded=True)
    assert a._apply_updates([_update(cid, 0, 1)]) == 1
    both = replace(_update(cid, 0, 2).order, filled_avg_price=101.0)
    monkeypatch.setattr(b.broker, "get_order", lambda _cid: both)
    monkeypatch.setattr(b.broker, "adopt", lambda _order: None)
    b._settle(WHEN)
    assert not b.unsettled
    assert _recorded(cid) == (2.0, 2.0, 2)
    assert sorted(float(f.price) for f in LiveFill.select()) == [100.0, 102.0]
    again = _update(cid, 0, 2)
    assert again.fill is not None
    assert not b._record_with_row(both, replace(again.fill, price=101.0))
    assert _recorded(cid) == (2.0, 2.0, 2)
