"""An OCO exit as alpaca-py sends it and as the desk sees it coming back: one order, the stop
leg folded into its take-profit parent, working while either leg works."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.alpaca_raw import raw_order
from tui_trader.brokers.alpaca_orders import to_domain_order, to_request
from tui_trader.core.orders import OrderClass, OrderRequest, OrderStatus, OrderType, Side


def _pair(parent: str, leg: str, filled_parent: str = "0", filled_leg: str = "0") -> Any:
    price = {"filled_avg_price": "108"} if filled_parent != "0" else {}
    leg_price = {"filled_avg_price": "95"} if filled_leg != "0" else {}
    stop = raw_order(
        "leg-1",
        "stop",
        leg,
        filled_leg,
        id="7a1d2b1e-0000-4000-8000-000000000002",
        order_class="oco",
        stop_price="95",
        **leg_price,
    )
    return raw_order(
        "tt-k-3-SPY-ps1",
        "limit",
        parent,
        filled_parent,
        order_class="oco",
        limit_price="108",
        legs=[stop],
        **price,
    )


def test_an_oco_request_carries_both_legs_prices() -> None:
    request = OrderRequest(
        "SPY",
        Side.SELL,
        100,
        "tt-k-3-SPY-ps1",
        OrderType.LIMIT,
        limit_price=108.0,
        stop_price=95.0,
        order_class=OrderClass.OCO,
    )
    body = to_request(request).to_request_fields()
    assert (body["order_class"], body["type"], body["limit_price"]) == ("oco", "limit", 108.0)
    assert body["take_profit"] == {"limit_price": 108.0}
    assert body["stop_loss"] == {"stop_price": 95.0}


@pytest.mark.parametrize(
    ("parent", "leg", "fills", "status", "price"),
    [
        ("new", "held", ("0", "0"), OrderStatus.NEW, None),
        ("filled", "canceled", ("100", "0"), OrderStatus.FILLED, 108.0),
        ("canceled", "filled", ("0", "100"), OrderStatus.FILLED, 95.0),
        ("canceled", "new", ("0", "0"), OrderStatus.NEW, None),
        ("canceled", "canceled", ("0", "0"), OrderStatus.CANCELED, None),
    ],
)
def test_the_pair_is_one_order_to_the_desk(parent, leg, fills, status, price) -> None:
    """Filled when either leg filled (at that leg's price); still working while the stop leg
    works though the parent is cancelled (it still holds the shares); cancelled when both
    are."""
    order = to_domain_order(_pair(parent, leg, *fills))
    assert (order.status, order.filled_avg_price) == (status, price)
    assert (order.order_class, order.limit_price, order.stop_price) == (OrderClass.OCO, 108, 95)
    assert order.leg_ids == ("leg-1",)
