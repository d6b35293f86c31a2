"""A replaced order is told apart from a cancelled one (``Order.replaced_by``): both ended
unfilled (status ``canceled``, so every reader of a final order stays right), but a replaced
exit's replacement still protects the position, and a sell or a second stop beside it would
sell the same shares twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from tests.unit.alpaca_raw import raw_order
from tui_trader.brokers.alpaca_amend import cancel_confirmed
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

NEW_ID = "7b08df51-c1ac-453c-99f9-323a5f075f0d"


def test_alpacas_replaced_is_ended_unfilled_and_names_its_replacement() -> None:
    order = to_domain_order(raw_order("tt-k-3-SPY-ps1", "stop", "replaced", replaced_by=NEW_ID))
    assert order.status is OrderStatus.CANCELED and order.status.is_final
    assert order.was_replaced and order.replaced_by == NEW_ID
    assert order.row_status == "canceled"  # the store's column keeps its word


def test_a_replaced_order_alpaca_did_not_name_the_replacement_of_is_still_replaced() -> None:
    order = to_domain_order(raw_order("tt-k-3-SPY-ps1", "stop", "replaced"))
    assert order.was_replaced and order.replaced_by == ""


def test_a_cancelled_or_working_order_is_not_replaced() -> None:
    for status in ("canceled", "new", "pending_replace", "filled", "expired"):
        filled = "100" if status == "filled" else "0"
        extra = {"filled_avg_price": "100"} if status == "filled" else {}
        order = to_domain_order(raw_order("tt-k-3-SPY-ps1", "stop", status, filled, **extra))
        assert not order.was_replaced and order.replaced_by is None, status


def test_the_paper_brokers_replace_names_the_new_order_and_its_cancel_does_not() -> None:
    broker = PaperBroker(100_000.0, ("SPY",), PaperCosts(0.0, 0.0, 0.0))
    t0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)
    broker.on_bars({"SPY": Bar("SPY", t0, 100, 101, 99, 100, 1_000_000)})
    broker.submit(OrderRequest("SPY", Side.BUY, 20, "buy"))
    broker.on_bars({"SPY": Bar("SPY", t0.replace(minute=31), 100, 101, 99, 100, 1_000_000)})
    stop = OrderRequest("SPY", Side.SELL, 20, "ps1", OrderType.STOP, None, TimeInForce.GTC,
                        stop_price=95.0)  # fmt: skip
    broker.submit(stop)
    new = broker.replace("ps1", OrderRequest("SPY", Side.SELL, 10, "ps2", OrderType.STOP,
                                             None, TimeInForce.GTC, stop_price=95.0))  # fmt: skip
    assert new is not None and new.status is OrderStatus.NEW
    old = broker.get_order("ps1")
    assert old is not None and old.status is OrderStatus.CANCELED
    assert old.replaced_by == new.broker_order_id
    cancelled = broker.cancel("ps2")
    assert cancelled is not None and not cancelled.was_replaced


def _looking_up(view: Any) -> Any:
    """A broker whose look-up answers ``view`` at once (merges nothing)."""
    policy = SimpleNamespace(timeout=1.0)
    return SimpleNamespace(
        get_order=lambda _cid: view, _apply=lambda *_: None, policy=policy, _stop=threading.Event()
    )


def test_a_cancel_is_confirmed_by_a_cancelled_order_and_not_by_a_replaced_one() -> None:
    """Before, Alpaca's ``replaced`` confirmed a cancel: the caller's sell went out while the
    replacement held (or, where shares are not held, sold) the same shares."""
    cancelled = to_domain_order(raw_order("tt-k-3-SPY-ps1", "stop", "canceled"))
    replaced = to_domain_order(raw_order("tt-k-3-SPY-ps1", "stop", "replaced", replaced_by=NEW_ID))
    assert cancel_confirmed(_looking_up(cancelled), "tt-k-3-SPY-ps1")
    assert not cancel_confirmed(_looking_up(replaced), "tt-k-3-SPY-ps1")
