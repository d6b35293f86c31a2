"""A fill that Alpaca's stream delivers after the order's ``canceled``: recorded, and the
order stays ended.

The shares traded before the cancel took, but the news came late (the stream reorders, a
REST read lags it). Alpaca's documents say a ``canceled`` order gets no further updates: a
later ``partial_fill`` is old news about the fill, not an order working again. The desk took
it as one: the order went back to ``partially_filled``, its symbol counted as working (holding
back a stop, a hand close, a rebalance) and its row said working in History while Alpaca had
it cancelled. A late ``fill`` of the rest is different: every share traded, so the order is
``filled`` (Alpaca's own end for it), not cancelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.alpaca_raw import offline_broker, raw_order
from tui_trader.brokers.alpaca import AlpacaBroker
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.core.orders import OrderStatus, OrderUpdate

CID = "tt-late-1-SPY-x"


@pytest.fixture
def broker() -> Iterator[AlpacaBroker]:
    """A broker following a working sell limit for 100 SPY (nothing is sent anywhere)."""
    broker = offline_broker()
    broker.adopt(to_domain_order(_view("new", "0", "15:00:00")))
    try:
        yield broker
    finally:
        broker.close()


def _view(status: str, filled: str, at: str, **kw: Any) -> Any:
    """The order as Alpaca's stream shows it, stamped ``at`` (UTC, 2026-12-04)."""
    price = {"filled_avg_price": "101"} if filled != "0" else {}
    stamp = f"2026-12-04T{at}Z"
    return raw_order(
        CID, "limit", status, filled, limit_price="101", updated_at=stamp, **price, **kw
    )


def _deliver(broker: AlpacaBroker, event: str, raw: Any) -> list[OrderUpdate]:
    """The stream delivers ``event`` with ``raw``; what the desk drains after it."""
    broker._apply_event(to_domain_order(raw), event)
    broker.client.get_order_by_client_id = lambda _cid: raw  # a poll, if any, answers it
    return broker.drain_updates()


def _partly_filled_then_cancelled(broker: AlpacaBroker) -> None:
    """30 of 100 fill, then Alpaca confirms the cancel (with those 30)."""
    [filled] = _deliver(broker, "partial_fill", _view("partially_filled", "30", "15:01:00"))
    assert filled.fill is not None and filled.fill.qty == 30
    [cancelled] = _deliver(broker, "canceled", _view("canceled", "30", "15:03:00"))
    assert cancelled.order.status is OrderStatus.CANCELED
    assert broker.working_symbols() == set()


def test_a_partial_fill_arriving_after_the_cancel_is_recorded_and_the_order_stays_cancelled(
    broker: AlpacaBroker,
) -> None:
    _partly_filled_then_cancelled(broker)
    late = _view("partially_filled", "50", "15:02:00")  # 20 more traded before the cancel
    [update] = _deliver(broker, "partial_fill", late)
    assert update.fill is not None and update.fill.qty == 20, "the shares traded: recorded"
    assert update.order.status is OrderStatus.CANCELED, "an ended order does not work again"
    assert update.order.filled_qty == 50
    assert broker.working_symbols() == set(), "nothing of SPY is working at Alpaca"
    assert _deliver(broker, "partial_fill", late) == [], "the same late fill counts once"
    repeated = _deliver(broker, "canceled", _view("canceled", "30", "15:03:00"))
    assert repeated == [], "the cancel's news, repeated, changes nothing"
    assert broker.take_contradictions() == [], "news out of order is no contradiction"


def test_a_fill_of_the_rest_arriving_after_the_cancel_ends_the_order_filled(
    broker: AlpacaBroker,
) -> None:
    _partly_filled_then_cancelled(broker)
    late = _view("filled", "100", "15:02:00", filled_at="2026-12-04T15:02:00Z")
    [update] = _deliver(broker, "fill", late)
    assert update.fill is not None and update.fill.qty == 70
    assert update.order.status is OrderStatus.FILLED, "every share traded: filled, not cancelled"
    assert broker.working_symbols() == set()
