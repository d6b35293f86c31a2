"""The account's round trips (``reporting.account_trips``) against figures worked by hand.

Each test writes an account's fills (and snapshots) as the desks record them, then checks the
round trips ``report`` and ``history`` show: quantities, entry and exit prices, profit, and that
they add up to what the fills made. Runs on SQLite and PostgreSQL.

Four of them pin bugs of the sale of shares no recorded fill bought (bought by hand, or before
the store's first desk), which is entered at the broker's average from the account's snapshot:
- the snapshot was taken as the account's holding at the fill even when fills came between
  them: a desk's 20 SPY sold as 10 then 15 in one cycle (a flip to short 5) read the snapshot's
  20, took 5 phantom shares at the broker's average and booked a long of 15 where the fills
  made a long of 10 and a short of 5 (40 shown where the fills made 45);
- the snapshot was the newest one written before the fill was *recorded*: one written between
  the sale's execution and its (late) record already holds none of the shares, so the sale of 7
  shares held by hand opened a phantom short and no round trip was shown at all;
- the shares held by hand were entered at the broker's average of the whole position, which
  counts the desk's own shares beside them: 7 at 90 and the desk's 3 at 100 sold at 105 were
  entered at 95.10 (99 made) where the account paid 93 (120 made).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from tui_trader.reporting.account_trips import account_trips
from tui_trader.store.db import open_database
from tui_trader.store.models import AccountSnapshot, LiveFill, LiveOrder, SessionRow
from tui_trader.store.statements import db_time

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
ACCOUNT = "alpaca:PA-FIGURES"
_ids = count(1)


@pytest.fixture
def desk(store: Path | Any) -> Any:
    """A store opened with one Alpaca session on ``ACCOUNT``; yields the session row."""
    db = open_database(store)
    try:
        yield _session("one")
    finally:
        db.close()


def _session(key: str) -> SessionRow:
    return SessionRow.create(
        key=key,
        mode="paper",
        broker="alpaca",
        data_source="alpaca",
        symbols="SPY",
        parameters="{}",
        account_key=ACCOUNT,
        started_at=db_time(T0 - timedelta(hours=1)),
    )


def _fill(
    session: SessionRow,
    side: str,
    qty: float,
    price: float,
    at: float,
    recorded: float | None = None,
    commission: float = 0.0,
    order: str | None = None,
) -> None:
    """A fill executed ``at`` seconds after ``T0`` (recorded then, or ``recorded`` s after)."""
    n = next(_ids)
    cid = order or f"o{n}"
    row = LiveOrder.get_or_none(LiveOrder.client_order_id == cid)
    if row is None:
        row = LiveOrder.create(
            session=session,
            client_order_id=cid,
            symbol="SPY",
            side=side,
            quantity=qty,
            order_type="market",
            status="filled",
            timestamp=db_time(T0 + timedelta(seconds=at)),
            updated_at=db_time(T0 + timedelta(seconds=at)),
            rationale=f"why {cid}",
        )
    LiveFill.create(
        session=session,
        order=row,
        fill_key=f"k{n}",
        symbol="SPY",
        side=side,
        quantity=qty,
        price=price,
        commission=commission,
        timestamp=db_time(T0 + timedelta(seconds=at if recorded is None else recorded)),
        market_time=db_time(T0 + timedelta(seconds=at)),
    )


def _snapshot(session: SessionRow, at: float, qty: float, avg: float) -> None:
    """The account as a desk wrote it ``at`` seconds after ``T0``: ``qty`` SPY at ``avg``."""
    AccountSnapshot.create(
        session=session,
        timestamp=db_time(T0 + timedelta(seconds=at)),
        cash=0.0,
        equity=0.0,
        buying_power=0.0,
        drawdown_pct=0.0,
        daily_pnl=0.0,
        positions=json.dumps([["SPY", qty, avg, avg]] if qty else []),
    )


def _trips() -> list[tuple[str, float, float, float, float]]:
    """(side, quantity, entry, exit, pnl) of every round trip, oldest first, rounded."""
    return [
        (
            str(t.trade.side),
            round(t.trade.quantity, 6),
            round(t.trade.entry_price, 6),
            round(t.trade.exit_price, 6),
            round(t.trade.pnl, 6),
        )
        for t in account_trips(None)
    ]


def test_partial_fills_a_flip_fees_and_fractions_add_up_to_the_fills(desk: SessionRow) -> None:
    """Bought 4 @ 100 and 6 @ 101 (one order, $1 commission each), sold 12.5 @ 103 in one
    order (the long of 10 at 100.60 closed, a short of 2.5 opened), bought 2.5 @ 102."""
    _fill(desk, "buy", 4, 100.0, 0, commission=1.0, order="b")
    _fill(desk, "buy", 6, 101.0, 1, commission=1.0, order="b")
    _fill(desk, "sell", 12.5, 103.0, 60, commission=2.5, order="s")
    _fill(desk, "buy", 2.5, 102.0, 120)
    # long 10: (103 - 100.6) * 10 = 24, less 2 (entry) and 2 (10/12.5 of the exit's 2.5)
    # short 2.5: (103 - 102) * 2.5 = 2.5, less 0.5 (its share of the exit's commission)
    assert _trips() == [("buy", 10, 100.6, 103.0, 20.0), ("sell", 2.5, 103.0, 102.0, 2.0)]
    made = -400 - 606 + 1287.5 - 255 - 2 - 2.5
    assert abs(sum(t.trade.pnl for t in account_trips(None)) - made) < 1e-9


def test_a_fill_recorded_late_goes_in_the_order_it_executed(desk: SessionRow) -> None:
    """A sale executed before a buy recorded earlier: the account was short first."""
    _fill(desk, "buy", 5, 100.0, 0)
    _fill(desk, "buy", 5, 110.0, 30)  # recorded first, executed after the sale below
    _fill(desk, "sell", 5, 104.0, 10, recorded=40)  # an ended desk's, recorded late
    _fill(desk, "sell", 5, 112.0, 50)
    assert _trips() == [("buy", 5, 100.0, 104.0, 20.0), ("buy", 5, 110.0, 112.0, 10.0)]


def test_two_desks_fills_at_one_time_keep_the_order_recorded(desk: SessionRow) -> None:
    """Two desks' fills of one second: the one recorded first (lower id) goes first, on
    either engine; the figures are the account's either way."""
    other = _session("two")
    _fill(desk, "buy", 10, 100.0, 0)
    _fill(other, "sell", 4, 105.0, 5)
    _fill(desk, "sell", 6, 106.0, 5)
    trips = account_trips(None)
    assert [(t.session_id, t.trade.quantity, t.trade.pnl) for t in trips] == [
        (other.id, 4, 20.0),
        (desk.id, 6, 36.0),
    ]


def test_a_flip_in_two_fills_after_a_snapshot_books_no_phantom_shares(desk: SessionRow) -> None:
    """Bought 20 @ 100 (a snapshot: 20 SPY), then in one cycle sold 10 @ 101 and 15 @ 102
    (a flip to short 5), covered 5 @ 99: the snapshot's 20 are not held at the second sale."""
    _fill(desk, "buy", 20, 100.0, 0)
    _snapshot(desk, 30, 20, 100.0)
    _fill(desk, "sell", 10, 101.0, 60, order="flip")
    _fill(desk, "sell", 15, 102.0, 61, order="flip")
    _fill(desk, "buy", 5, 99.0, 120)
    assert _trips() == [
        ("buy", 10, 100.0, 101.0, 10.0),
        ("buy", 10, 100.0, 102.0, 20.0),
        ("sell", 5, 102.0, 99.0, 15.0),
    ]


def test_shares_held_by_hand_and_bought_since_the_snapshot_sell_as_one_trip(
    desk: SessionRow,
) -> None:
    """7 SPY held by hand at 90 (the snapshot), 3 bought @ 100 by the desk, all 10 sold
    @ 105 before the next snapshot: one long of 10 entered at 93, no short left open."""
    _snapshot(desk, 0, 7, 90.0)
    _fill(desk, "buy", 3, 100.0, 10)
    _fill(desk, "sell", 10, 105.0, 20)
    _fill(desk, "buy", 2, 104.0, 30)  # a new long, not the cover of a phantom short
    _fill(desk, "sell", 2, 106.0, 40)
    assert _trips() == [("buy", 10, 93.0, 105.0, 120.0), ("buy", 2, 104.0, 106.0, 4.0)]


def test_a_snapshot_written_between_a_sale_and_its_late_record_is_not_read(
    desk: SessionRow,
) -> None:
    """7 SPY held by hand at 90; sold @ 100 at +300 s, the fill recorded at +420 s (heard
    late); a snapshot at +360 s already holds none: the sale is a long of 7 from 90."""
    _snapshot(desk, 0, 7, 90.0)
    _fill(desk, "sell", 7, 100.0, 300, recorded=420)
    _snapshot(desk, 360, 0, 0.0)
    assert _trips() == [("buy", 7, 90.0, 100.0, 70.0)]


def test_shares_held_by_hand_beside_the_desks_are_entered_at_their_own_price(
    desk: SessionRow,
) -> None:
    """7 SPY held by hand at 90, 3 bought @ 100 by the desk; the snapshot since shows 10 at the
    broker's average, 93; all 10 sold @ 105: one long of 10 entered at 93 (the 7 at 90 beside
    the desk's 3 at 100), not the 7 at 93 beside the 3 at 100 (95.10)."""
    _snapshot(desk, 0, 7, 90.0)
    _fill(desk, "buy", 3, 100.0, 10)
    _snapshot(desk, 15, 10, 93.0)
    _fill(desk, "sell", 10, 105.0, 20)
    assert _trips() == [("buy", 10, 93.0, 105.0, 120.0)]


def test_shares_held_by_hand_sold_in_parts_are_sold_once(desk: SessionRow) -> None:
    """7 SPY held by hand at 90, sold 4 @ 95 and 3 @ 96 and then 2 more @ 97 (a short, on
    purpose) before the next snapshot, covered @ 94: the snapshot's 7 are taken once."""
    _snapshot(desk, 0, 7, 90.0)
    _fill(desk, "sell", 4, 95.0, 10)
    _fill(desk, "sell", 3, 96.0, 20)
    _fill(desk, "sell", 2, 97.0, 30)
    _fill(desk, "buy", 2, 94.0, 40)
    assert _trips() == [
        ("buy", 4, 90.0, 95.0, 20.0),
        ("buy", 3, 90.0, 96.0, 18.0),
        ("sell", 2, 97.0, 94.0, 6.0),
    ]
