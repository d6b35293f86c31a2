"""Our orders as alpaca-py requests and back: the stop types keep their prices both ways."""

from __future__ import annotations

import pytest
from alpaca.trading.enums import OrderStatus as AlpacaStatus

from tests.unit.alpaca_raw import raw_order
from tui_trader.brokers.alpaca_orders import to_domain_order, to_request
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce


def _fields(request: OrderRequest) -> dict:
    """What alpaca-py would put in the POST /v2/orders body."""
    return to_request(request).to_request_fields()


def test_a_protective_stop_is_a_gtc_stop_request_with_our_client_id() -> None:
    body = _fields(
        OrderRequest(
            "SPY",
            Side.SELL,
            100,
            "tt-k-3-SPY-ps1",
            OrderType.STOP,
            time_in_force=TimeInForce.GTC,
            stop_price=96.14,
        )
    )
    assert body == {
        "symbol": "SPY",
        "qty": 100,
        "side": "sell",
        "type": "stop",
        "time_in_force": "gtc",
        "client_order_id": "tt-k-3-SPY-ps1",
        "stop_price": 96.14,
    }


def test_stop_limit_and_trailing_stop_requests_carry_their_prices() -> None:
    stop_limit = _fields(
        OrderRequest(
            "SPY", Side.SELL, 5, "a", OrderType.STOP_LIMIT, limit_price=94.0, stop_price=95.0
        )
    )
    assert (stop_limit["type"], stop_limit["stop_price"], stop_limit["limit_price"]) == (
        "stop_limit",
        95.0,
        94.0,
    )
    trailing = _fields(OrderRequest("SPY", Side.SELL, 5, "b", OrderType.TRAILING_STOP,
                                    trail_percent=3.0))  # fmt: skip
    assert (trailing["type"], trailing["trail_percent"]) == ("trailing_stop", 3.0)


def test_alpaca_validates_a_stop_without_its_price_before_sending() -> None:
    """alpaca-py refuses a trailing stop with no trail at construction: nothing is sent."""
    with pytest.raises(ValueError):
        to_request(OrderRequest("SPY", Side.SELL, 5, "c", OrderType.TRAILING_STOP))


def test_an_alpaca_stop_order_maps_back_with_type_and_stop_price() -> None:
    """A working stop as Alpaca reports it (prices as strings) is a working stop to the desk."""
    raw = raw_order("tt-k-3-SPY-ps1", "stop", "new", order_class="simple", stop_price="96.14")
    order = to_domain_order(raw)
    assert (order.order_type, order.stop_price, order.time_in_force) == (
        OrderType.STOP,
        96.14,
        TimeInForce.GTC,
    )
    assert order.status.is_open and order.remaining_qty == 100


@pytest.mark.parametrize("status", [s.value for s in AlpacaStatus])
def test_every_order_state_alpaca_py_knows_is_read_as_one_of_the_desks(status: str) -> None:
    """No state alpaca-py parses reads as ``unknown`` (an answer the desk cannot place, followed
    as lost): ``pending_review`` did, and a buy held for review was taken for a lost answer and
    left out of the working orders the limits count. One not done yet is working."""
    fills = {"filled_avg_price": "96.14"} if status == "filled" else {}
    filled = "100" if fills else "0"
    raw = raw_order("tt-k-3-SPY-r", "limit", status, filled, limit_price="96.14", **fills)
    order = to_domain_order(raw)
    assert order.status is not OrderStatus.UNKNOWN
    done = {"filled", "canceled", "expired", "replaced", "rejected"}
    assert order.status.is_open is (status not in done)
