"""Which of the other desks' working rows the position limit counts beside the broker's
listing (``engine.others_working``): each row the listing lacks as the broker says it now."""

from __future__ import annotations

from typing import Any

from tui_trader.brokers import Throttled
from tui_trader.core.domain import Position
from tui_trader.core.orders import Order, OrderStatus, OrderType, Side
from tui_trader.engine import others_working
from tui_trader.engine.others_working import with_others
from tui_trader.risk.holdings import holdings
from tui_trader.store.other_sales import WorkingRow

ROWS = [
    WorkingRow("listed", "buy", "limit", 5.0, "SPY"),
    WorkingRow("filled-there", "buy", "market", 10.0, "SPY"),
    WorkingRow("partly-there", "buy", "limit", 10.0, "SPY"),
    WorkingRow("on-its-way", "buy", "limit", 4.0, "SPY"),
    WorkingRow("sale", "sell", "limit", 4.0, "SPY"),
]


def _at_broker(cid: str, status: OrderStatus, filled: float) -> Order:
    """A buy of 10 SPY as the broker lists it."""
    return Order(cid, "SPY", Side.BUY, 10.0, OrderType.LIMIT, status, filled_qty=filled)


BROKER = {
    "filled-there": _at_broker("filled-there", OrderStatus.FILLED, 10.0),
    "partly-there": _at_broker("partly-there", OrderStatus.PARTIALLY_FILLED, 7.0),
}


def test_each_unlisted_row_counts_as_the_broker_works_it(monkeypatch: Any) -> None:
    """Listed: once. Filled at the broker (its desk has not recorded it): not at all, the
    positions hold it. Partly filled there: what is left (3). Not at the broker yet (sent a
    moment ago): as its row says (4). Another desk's working sell (4) frees no room for a
    buy. Held 10: a buy is measured against 10 + 5 + 3 + 4 = 22."""
    asked: list[str] = []

    def look_up(cid: str) -> Order | None:
        asked.append(cid)
        return BROKER.get(cid)

    monkeypatch.setattr(others_working, "live_working_rows", lambda *a, **k: ROWS)
    listed = [Order("listed", "SPY", Side.BUY, 5.0, OrderType.LIMIT, OrderStatus.NEW)]
    counted = with_others(listed, "acct", 1, look_up)
    assert sorted(asked) == ["filled-there", "on-its-way", "partly-there", "sale"]
    assert [(o.client_order_id, o.remaining_qty) for o in counted] == [
        ("listed", 5.0),
        ("partly-there", 3.0),
        ("on-its-way", 4.0),
        ("sale", 4.0),
    ]
    book = holdings({"SPY": Position("SPY", 10.0, 100.0, 100.0)}, counted)
    assert book["SPY"].facing(+1) == 22.0 and book["SPY"].facing(-1) == 6.0


def test_a_look_up_not_answered_counts_the_row_as_it_says(monkeypatch: Any) -> None:
    """The broker silent (or the request budget spent): each row counts as it says, the
    stricter reading; the order by hand is measured, not refused for the look-up."""

    def silent(cid: str) -> Order | None:
        raise Throttled("the request budget is spent")

    monkeypatch.setattr(others_working, "live_working_rows", lambda *a, **k: ROWS[1:])
    counted = with_others([], "acct", 1, silent)
    assert [(o.client_order_id, o.remaining_qty) for o in counted] == [
        (row.client_order_id, row.remaining) for row in ROWS[1:]
    ]
