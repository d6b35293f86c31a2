"""alpaca-py's stop, trailing-stop, bracket, OCO and OTO orders and replace against the sandbox."""

from __future__ import annotations

import pytest
from alpaca.trading.enums import OrderClass, OrderSide, OrderStatus, OrderType
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    ReplaceOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
    TrailingStopOrderRequest,
)

from tests.integration.sandbox_requests import bracket, exits, limit, market, refused
from tui_trader.brokers.alpaca_orders import to_domain_order
from tui_trader.core.orders import OrderStatus as Ours


def last(sandbox, symbol: str = "SPY") -> float:
    """The symbol's last price in the sandbox."""
    return sandbox.sandbox.feed.last_price(symbol)


def own(trading, symbol: str = "SPY", qty: int = 10) -> None:
    """Buy ``qty`` shares at market."""
    trading.submit_order(market(symbol, qty, OrderSide.BUY))


def test_sell_stop_waits_then_triggers_and_fills_at_the_gap(sandbox, trading):
    own(trading)
    stop = round(last(sandbox) * 0.97, 2)
    order = trading.submit_order(
        StopOrderRequest(
            symbol="SPY", qty=10, side=OrderSide.SELL, time_in_force="gtc", stop_price=stop
        )
    )
    assert order.type == OrderType.STOP and float(order.stop_price) == stop
    sandbox.admin.step(1)
    assert trading.get_order_by_id(order.id).status == OrderStatus.NEW
    sandbox.admin.step(1, shock={"SPY": -6.0})
    done = trading.get_order_by_id(order.id)
    assert done.status == OrderStatus.FILLED
    bar_open = sandbox.sandbox.feed.latest_bar("SPY").open
    assert float(done.filled_avg_price) == pytest.approx(min(stop, bar_open) * 0.9998, rel=1e-6)
    assert trading.get_all_positions() == []


def test_stop_limit_triggers_then_works_as_a_limit(sandbox, trading):
    own(trading)
    stop = round(last(sandbox) * 0.98, 2)
    limit_price = round(stop * 0.999, 2)
    order = trading.submit_order(
        StopLimitOrderRequest(
            symbol="SPY",
            qty=10,
            side=OrderSide.SELL,
            time_in_force="gtc",
            stop_price=stop,
            limit_price=limit_price,
        )
    )
    sandbox.admin.step(1, shock={"SPY": -10.0})  # gaps far below the limit: triggered, unfilled
    waiting = trading.get_order_by_id(order.id)
    assert waiting.status == OrderStatus.NEW and float(waiting.filled_qty) == 0
    sandbox.admin.step(1, shock={"SPY": 12.0})
    done = trading.get_order_by_id(order.id)
    assert done.status == OrderStatus.FILLED and float(done.filled_avg_price) >= limit_price


def test_stop_on_the_wrong_side_of_the_market_and_missing_stop_price_are_422(sandbox, trading):
    own(trading)
    above = round(last(sandbox) * 1.02, 2)
    status, message = refused(
        lambda: trading.submit_order(
            StopOrderRequest(
                symbol="SPY", qty=1, side="sell", time_in_force="gtc", stop_price=above
            )
        )
    )
    assert status == 422 and "stop_price must be below the current price" in message
    body = {"symbol": "SPY", "qty": "1", "side": "sell", "type": "stop", "time_in_force": "gtc"}
    status, message = refused(lambda: trading.post("/orders", body))
    assert status == 422 and "stop_price is required" in message
    body = {**body, "type": "trailing_stop", "trail_percent": "2", "time_in_force": "ioc"}
    status, message = refused(lambda: trading.post("/orders", body))
    assert status == 422 and "DAY or GTC" in message


def test_trailing_stop_follows_the_high_and_triggers_on_the_pullback(sandbox, trading):
    own(trading, "QQQ", 5)
    order = trading.submit_order(
        TrailingStopOrderRequest(
            symbol="QQQ", qty=5, side=OrderSide.SELL, time_in_force="gtc", trail_percent=2
        )
    )
    start = last(sandbox, "QQQ")
    assert float(order.hwm) == pytest.approx(start)
    assert float(order.stop_price) == pytest.approx(start * 0.98, abs=0.01)
    sandbox.admin.step(1, shock={"QQQ": 5.0})
    raised = trading.get_order_by_id(order.id)
    high = sandbox.sandbox.feed.latest_bar("QQQ").high
    assert raised.status == OrderStatus.NEW and float(raised.hwm) == pytest.approx(high)
    assert float(raised.stop_price) == pytest.approx(high * 0.98, abs=0.01)
    sandbox.admin.step(1, shock={"QQQ": -6.0})
    assert trading.get_order_by_id(order.id).status == OrderStatus.FILLED


def test_bracket_legs_held_until_the_entry_fills_then_one_cancels_the_other(sandbox, trading):
    price = last(sandbox)
    take, stop = round(price * 1.05, 2), round(price * 0.95, 2)
    entry = trading.submit_order(bracket("SPY", 10, take, stop))
    assert entry.order_class == OrderClass.BRACKET
    assert [(leg.type, leg.status) for leg in entry.legs] == [
        (OrderType.LIMIT, OrderStatus.HELD),
        (OrderType.STOP, OrderStatus.HELD),
    ]
    filled = trading.get_order_by_id(entry.id)
    assert filled.status == OrderStatus.FILLED
    take_leg, stop_leg = filled.legs
    assert take_leg.status == OrderStatus.NEW and float(take_leg.limit_price) == take
    assert stop_leg.status == OrderStatus.HELD and float(stop_leg.stop_price) == stop
    assert take_leg.side == stop_leg.side == OrderSide.SELL and float(stop_leg.qty) == 10
    flat = trading.get_orders(GetOrdersRequest(status="open"))
    assert {o.id for o in flat} == {take_leg.id, stop_leg.id}  # legs listed on their own
    assert trading.get_orders(GetOrdersRequest(status="open", nested=True)) == []
    sandbox.admin.step(1, shock={"SPY": 7.0})
    after = trading.get_order_by_id(entry.id)
    assert [leg.status for leg in after.legs] == [OrderStatus.FILLED, OrderStatus.CANCELED]
    assert trading.get_all_positions() == []


def test_bracket_prices_are_checked_against_the_base_price(sandbox, trading):
    price = last(sandbox)
    take, stop, entry = round(price * 1.05, 2), round(price * 0.995, 2), round(price * 0.99, 2)
    request = bracket("SPY", 1, take, stop, entry, time_in_force="day")
    status, message = refused(lambda: trading.submit_order(request))
    assert status == 422 and "stop_loss.stop_price must be <= base_price - 0.01" in message
    body = {
        "symbol": "SPY",
        "qty": "1.5",
        "side": "buy",
        "type": "market",
        "time_in_force": "day",
        "order_class": "bracket",
        "take_profit": {"limit_price": str(round(price * 1.1, 2))},
        "stop_loss": {"stop_price": str(round(price * 0.9, 2))},
    }
    status, message = refused(lambda: trading.post("/orders", body))
    assert status == 422 and "whole number of shares" in message


def test_oco_exit_pair_and_oto_entry(sandbox, trading):
    own(trading, "IWM", 4)
    price = last(sandbox, "IWM")
    oco = trading.submit_order(
        LimitOrderRequest(
            symbol="IWM",
            qty=4,
            side=OrderSide.SELL,
            time_in_force="gtc",
            order_class=OrderClass.OCO,
            **exits(round(price * 1.05, 2), round(price * 0.95, 2)),
        )
    )
    assert oco.order_class == OrderClass.OCO and float(oco.limit_price) == round(price * 1.05, 2)
    assert [leg.type for leg in oco.legs] == [OrderType.STOP]
    assert float(trading.get_open_position("IWM").qty_available) == 0  # the pair holds 4, once
    sandbox.admin.step(1, shock={"IWM": -8.0})
    done = trading.get_order_by_id(oco.id)
    assert done.status == OrderStatus.CANCELED and done.legs[0].status == OrderStatus.FILLED
    stop = round(last(sandbox, "IWM") * 0.9, 2)
    oto = trading.submit_order(
        market("IWM", 3, OrderSide.BUY, order_class=OrderClass.OTO, **exits(stop=stop))
    )
    assert len(oto.legs) == 1 and oto.legs[0].status == OrderStatus.HELD
    assert trading.get_order_by_id(oto.id).legs[0].status == OrderStatus.HELD  # armed stop
    assert float(trading.get_open_position("IWM").qty) == 3


def test_replace_limit_order_and_the_refusals(sandbox, trading):
    resting = trading.submit_order(limit("SPY", 2, OrderSide.BUY, 10, client_order_id="r-1"))
    new = trading.replace_order_by_id(
        resting.id, ReplaceOrderRequest(qty=3, limit_price=11, client_order_id="r-2")
    )
    assert new.id != resting.id and str(new.replaces) == str(resting.id)
    assert float(new.qty) == 3 and float(new.limit_price) == 11 and new.client_order_id == "r-2"
    old = trading.get_order_by_id(resting.id)
    assert old.status == OrderStatus.REPLACED and str(old.replaced_by) == str(new.id)
    assert old.replaced_at is not None
    ours = to_domain_order(old)  # ended unfilled, told apart from cancelled by its replacement
    assert ours.status is Ours.CANCELED and ours.replaced_by == str(new.id)
    status, _message = refused(lambda: trading.cancel_order_by_id(resting.id))
    assert status in (404, 422)  # "nothing to cancel": the desk looks it up (replaced)
    assert [o.id for o in trading.get_orders()] == [new.id]
    status, message = refused(
        lambda: trading.replace_order_by_id(resting.id, ReplaceOrderRequest(qty=1))
    )
    assert status == 422 and "replaced" in message
    filled = trading.submit_order(market("QQQ", 1, OrderSide.SELL))
    status, message = refused(
        lambda: trading.replace_order_by_id(filled.id, ReplaceOrderRequest(qty=2))
    )
    assert status == 422 and "filled" in message
    status, message = refused(
        lambda: trading.replace_order_by_id(new.id, ReplaceOrderRequest(stop_price=5))
    )
    assert status == 422 and "stop_price" in message


def test_replace_moves_a_bracket_stop_leg(sandbox, trading):
    price = last(sandbox)
    entry = trading.submit_order(bracket("SPY", 5, round(price * 1.1, 2), round(price * 0.9, 2)))
    stop_leg = trading.get_order_by_id(entry.id).legs[1]
    moved = trading.replace_order_by_id(
        stop_leg.id, ReplaceOrderRequest(stop_price=round(price * 0.97, 2))
    )
    assert moved.status == OrderStatus.HELD and float(moved.stop_price) == round(price * 0.97, 2)
    legs = trading.get_order_by_id(entry.id).legs
    assert [leg.id for leg in legs][1] == moved.id
    sandbox.admin.step(1, shock={"SPY": -5.0})
    legs = trading.get_order_by_id(entry.id).legs
    assert [leg.status for leg in legs] == [OrderStatus.CANCELED, OrderStatus.FILLED]


def test_replace_a_bracket_entry_keeps_its_legs(sandbox, trading):
    price = last(sandbox)
    take, stop, entry_price = round(price * 1.1, 2), round(price * 0.8, 2), round(price * 0.9, 2)
    entry = trading.submit_order(bracket("SPY", 2, take, stop, entry_price))
    new = trading.replace_order_by_id(entry.id, ReplaceOrderRequest(qty=3))
    assert float(new.qty) == 3 and [leg.id for leg in new.legs] == [leg.id for leg in entry.legs]
    assert [(leg.status, float(leg.qty)) for leg in new.legs] == [(OrderStatus.HELD, 3)] * 2
    trading.cancel_order_by_id(new.id)
    legs = trading.get_order_by_id(new.id).legs
    assert [leg.status for leg in legs] == [OrderStatus.CANCELED] * 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"type": "limit", "order_class": "oco", "take_profit": "500"}, "limit_price"),
        ({"order_class": "bracket", "stop_loss": [1]}, "invalid stop_loss"),
        ({"order_class": "bracket", "take_profit": {"limit_price": "999"}}, "stop_loss"),
        ({"order_class": "oto"}, "exactly one of take_profit or stop_loss"),
        ({"order_class": "triple"}, "invalid order_class"),
        ({"type": "trailing_stop", "trail_price": "1", "trail_percent": "1"}, "one of trail"),
        ({"type": "stop", "stop_price": "abc"}, "invalid stop_price"),
        ({"type": "stop_limit", "stop_price": "1"}, "stop_limit orders require limit_price"),
        ({"type": "stop", "stop_price": "1", "time_in_force": "opg"}, "market or limit"),
    ],
)
def test_malformed_stop_and_complex_orders_are_422(trading, extra, message):
    body = {"symbol": "SPY", "qty": "1", "side": "sell", "type": "market", "time_in_force": "gtc"}
    status, text = refused(lambda: trading.post("/orders", {**body, **extra}))
    assert status == 422 and message in text
