"""alpaca-py's TradingClient against the sandbox: every endpoint, parsed into alpaca-py models."""

from __future__ import annotations

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import TradeActivity
from alpaca.trading.requests import (
    ClosePositionRequest,
    GetCalendarRequest,
    GetOrdersRequest,
    GetPortfolioHistoryRequest,
    LimitOrderRequest,
    MarketOrderRequest,
)


def buy(symbol: str = "SPY", qty: float = 10, coid: str | None = None) -> MarketOrderRequest:
    """A market day buy."""
    return MarketOrderRequest(
        symbol=symbol,
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id=coid,
    )


def error_json(exc: APIError) -> dict:
    """The JSON body of an alpaca-py APIError."""
    import json

    return json.loads(str(exc))


def test_account_starts_with_the_cash_and_no_pdt_fields(sandbox, trading):
    account = trading.get_account()
    assert float(account.cash) == 100_000.0
    assert float(account.equity) == 100_000.0
    assert float(account.buying_power) == 100_000.0
    assert float(account.last_equity) == 100_000.0
    assert account.status.value == "ACTIVE"
    raw = trading.get("/account")
    assert "pattern_day_trader" not in raw and "long_market_value" in raw


def test_market_order_fills_and_moves_cash_position_and_activities(sandbox, trading):
    ack = trading.submit_order(buy(qty=10, coid="t-1"))
    assert ack.status == OrderStatus.PENDING_NEW
    assert ack.client_order_id == "t-1" and float(ack.qty) == 10
    order = trading.get_order_by_id(ack.id)
    assert order.status == OrderStatus.FILLED
    assert float(order.filled_qty) == 10
    price = float(order.filled_avg_price)
    quote_ask = sandbox.sandbox.feed.quote("SPY").ask
    assert price == pytest.approx(quote_ask * 1.0002, rel=1e-6)  # ask plus 2 bps slippage
    position = trading.get_open_position("SPY")
    assert float(position.qty) == 10 and float(position.avg_entry_price) == pytest.approx(price)
    assert position.side.value == "long"
    account = trading.get_account()
    assert float(account.cash) == pytest.approx(100_000 - 10 * price, abs=0.01)
    assert float(account.long_market_value) == pytest.approx(10 * position_price(trading))
    fills = [TradeActivity(**a) for a in trading.get("/account/activities/FILL")]
    assert len(fills) == 1 and fills[0].order_id == ack.id and fills[0].qty == 10


def position_price(trading) -> float:
    """SPY's current price as the position reports it."""
    return float(trading.get_open_position("SPY").current_price)


def test_limit_order_rests_then_fills_when_a_bar_crosses(sandbox, trading):
    last = sandbox.sandbox.feed.last_price("SPY")
    limit = round(last * 0.97, 2)
    order = trading.submit_order(
        LimitOrderRequest(
            symbol="SPY",
            qty=3,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.GTC,
            limit_price=limit,
        )
    )
    assert trading.get_order_by_id(order.id).status == OrderStatus.NEW
    sandbox.admin.step(1)
    assert trading.get_order_by_id(order.id).status == OrderStatus.NEW
    sandbox.admin.step(1, shock={"SPY": -5.0})
    filled = trading.get_order_by_id(order.id)
    assert filled.status == OrderStatus.FILLED
    assert float(filled.filled_avg_price) <= limit


def test_marketable_limit_sell_fills_at_once(sandbox, trading):
    trading.submit_order(buy(qty=4))
    bid = sandbox.sandbox.feed.quote("SPY").bid
    order = trading.submit_order(
        LimitOrderRequest(
            symbol="SPY",
            qty=4,
            side=OrderSide.SELL,
            time_in_force=TimeInForce.DAY,
            limit_price=round(bid * 0.99, 2),
        )
    )
    done = trading.get_order_by_id(order.id)
    assert done.status == OrderStatus.FILLED
    assert float(done.filled_avg_price) >= round(bid * 0.99, 2)
    assert trading.get_all_positions() == []


def test_client_order_id_lookup_and_reuse_is_refused(trading):
    ack = trading.submit_order(buy(qty=1, coid="same-id"))
    assert trading.get_order_by_client_id("same-id").id == ack.id
    with pytest.raises(APIError) as err:
        trading.submit_order(buy(qty=1, coid="same-id"))
    assert err.value.status_code == 422
    assert error_json(err.value) == {"code": 40010001, "message": "client_order_id must be unique"}
    with pytest.raises(APIError) as err:
        trading.get_order_by_client_id("never-sent")
    assert err.value.status_code == 404


def test_orders_list_by_status(trading):
    filled = trading.submit_order(buy(qty=1))
    resting = trading.submit_order(
        LimitOrderRequest(
            symbol="QQQ", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1
        )
    )
    open_ids = {o.id for o in trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))}
    closed = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    all_ids = {o.id for o in trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL))}
    assert open_ids == {resting.id}
    assert {o.id for o in closed} == {filled.id}
    assert all_ids == {filled.id, resting.id}
    only_qqq = trading.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, symbols=["QQQ"]))
    assert [o.id for o in only_qqq] == [resting.id]


def test_cancel_one_then_all_and_the_errors(trading):
    def resting(price: float):
        return trading.submit_order(
            LimitOrderRequest(
                symbol="IWM",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=price,
            )
        )

    first, second, third = resting(1), resting(2), resting(3)
    trading.cancel_order_by_id(first.id)
    assert trading.get_order_by_id(first.id).status == OrderStatus.CANCELED
    with pytest.raises(APIError) as err:
        trading.cancel_order_by_id(first.id)
    assert err.value.status_code == 422 and error_json(err.value)["code"] == 42210000
    with pytest.raises(APIError) as err:
        trading.cancel_order_by_id("6a3f5e0c-0000-4000-8000-000000000000")
    assert err.value.status_code == 404
    with pytest.raises(APIError) as err:
        trading.get_order_by_id("6a3f5e0c-0000-4000-8000-000000000000")
    assert err.value.status_code == 404
    responses = trading.cancel_orders()
    assert {r.id for r in responses} == {second.id, third.id}
    assert all(r.status == 200 for r in responses)
    assert trading.get_orders() == []


def test_positions_get_close_partly_and_close_all(trading):
    trading.submit_order(buy("SPY", 10))
    trading.submit_order(buy("QQQ", 5))
    assert [p.symbol for p in trading.get_all_positions()] == ["QQQ", "SPY"]
    order = trading.close_position("SPY", ClosePositionRequest(qty="4"))
    assert order.side == OrderSide.SELL and float(order.qty) == 4
    assert float(trading.get_open_position("SPY").qty) == 6
    closed = trading.close_all_positions(cancel_orders=True)
    assert {c.symbol for c in closed} == {"QQQ", "SPY"} and all(c.status == 200 for c in closed)
    assert trading.get_all_positions() == []
    with pytest.raises(APIError) as err:
        trading.get_open_position("SPY")
    assert err.value.status_code == 404 and error_json(err.value)["code"] == 40410000
    with pytest.raises(APIError) as err:
        trading.close_position("SPY")
    assert err.value.status_code == 404


def test_short_sale_and_cover(trading):
    trading.submit_order(
        MarketOrderRequest(symbol="IWM", qty=5, side=OrderSide.SELL, time_in_force=TimeInForce.DAY)
    )
    position = trading.get_open_position("IWM")
    assert position.side.value == "short" and float(position.qty) == -5
    account = trading.get_account()
    assert float(account.short_market_value) < 0
    trading.close_position("IWM")
    assert trading.get_all_positions() == []


def test_insufficient_buying_power_and_qty_are_403(trading):
    with pytest.raises(APIError) as err:
        trading.submit_order(buy("SPY", 10_000))
    assert err.value.status_code == 403
    assert error_json(err.value)["code"] == 40310000
    assert error_json(err.value)["message"] == "insufficient buying power"
    trading.submit_order(buy("SPY", 2))
    with pytest.raises(APIError) as err:
        trading.submit_order(
            MarketOrderRequest(
                symbol="SPY", qty=3, side=OrderSide.SELL, time_in_force=TimeInForce.DAY
            )
        )
    assert err.value.status_code == 403 and "insufficient qty" in error_json(err.value)["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"symbol": "SPY", "qty": "1", "side": "buy", "type": "limit", "time_in_force": "day"},
            "limit_price",
        ),
        (
            {
                "symbol": "SPY",
                "qty": "0.5",
                "side": "buy",
                "type": "market",
                "time_in_force": "gtc",
            },
            "fractional",
        ),
        (
            {"symbol": "NOPE", "qty": "1", "side": "buy", "type": "market", "time_in_force": "day"},
            "not found",
        ),
        (
            {
                "symbol": "OLDCO",
                "qty": "1",
                "side": "buy",
                "type": "market",
                "time_in_force": "day",
            },
            "not tradable",
        ),
        (
            {"symbol": "SPY", "qty": "1", "side": "up", "type": "market", "time_in_force": "day"},
            "side",
        ),
        ({"symbol": "SPY", "side": "buy", "type": "market", "time_in_force": "day"}, "qty"),
    ],
)
def test_invalid_orders_are_422(trading, body, message):
    with pytest.raises(APIError) as err:
        trading.post("/orders", body)
    assert err.value.status_code == 422
    assert error_json(err.value)["code"] == 40010001
    assert message in error_json(err.value)["message"]


def test_fractional_and_notional_market_orders_fill(trading):
    frac = trading.submit_order(buy("SPY", 0.5))
    assert float(trading.get_order_by_id(frac.id).filled_qty) == 0.5
    notional = trading.submit_order(
        MarketOrderRequest(
            symbol="QQQ", notional=100, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
        )
    )
    done = trading.get_order_by_id(notional.id)
    assert done.status == OrderStatus.FILLED
    assert float(done.filled_qty) * float(done.filled_avg_price) == pytest.approx(100, abs=0.01)


def test_clock_calendar_and_assets(trading):
    clock = trading.get_clock()
    assert clock.is_open is True and clock.next_close > clock.timestamp
    days = trading.get_calendar(GetCalendarRequest())
    assert len(days) == 31 and days[0].open.hour == 0
    spy = trading.get_asset("SPY")
    assert spy.tradable and spy.fractionable and spy.symbol == "SPY"
    assert trading.get_asset(str(spy.id)).symbol == "SPY"
    assert trading.get_asset("OLDCO").tradable is False
    assert {a.symbol for a in trading.get_all_assets()} == {"SPY", "QQQ", "IWM", "OLDCO"}
    with pytest.raises(APIError) as err:
        trading.get_asset("NOPE")
    assert err.value.status_code == 404


def test_real_hours_calendar_skips_weekends():
    from alpaca.trading.client import TradingClient

    from tui_trader.sandbox.testing import make_fast, running_sandbox

    with running_sandbox(hours="real") as sb:
        client = make_fast(TradingClient(sb.key_id, sb.secret, url_override=sb.base_url))
        days = client.get_calendar(GetCalendarRequest(start="2026-11-23", end="2026-11-29"))
        assert [d.date.isoformat() for d in days] == [
            "2026-11-23",
            "2026-11-24",
            "2026-11-25",
            "2026-11-27",
        ]
        assert (
            days[0].open.strftime("%H:%M") == "09:30" and days[3].close.strftime("%H:%M") == "13:00"
        )
        clock = client.get_clock()
        assert clock.next_open > clock.timestamp


def test_suspend_trade_refuses_new_orders_with_403(trading):
    from alpaca.trading.models import AccountConfiguration

    config = trading.get_account_configurations()
    assert config.suspend_trade is False
    config.suspend_trade = True
    assert trading.set_account_configurations(config).suspend_trade is True
    assert trading.get_account().trade_suspended_by_user is True
    with pytest.raises(APIError) as err:
        trading.submit_order(buy(qty=1))
    assert err.value.status_code == 403 and error_json(err.value)["code"] == 40310000
    config.suspend_trade = False
    assert isinstance(trading.set_account_configurations(config), AccountConfiguration)
    assert trading.submit_order(buy(qty=1)).status == OrderStatus.PENDING_NEW


def test_portfolio_history_follows_equity(sandbox, trading):
    trading.submit_order(buy("SPY", 50))
    sandbox.admin.step(5)
    history = trading.get_portfolio_history(
        GetPortfolioHistoryRequest(period="1D", timeframe="1Min")
    )
    assert len(history.equity) == 6 and history.base_value == 100_000
    assert history.equity[-1] == pytest.approx(float(trading.get_account().equity), abs=0.01)
    assert history.profit_loss[-1] == pytest.approx(history.equity[-1] - 100_000, abs=0.01)


def test_wrong_or_missing_keys_are_refused(sandbox):
    from alpaca.trading.client import TradingClient

    from tui_trader.sandbox.testing import make_fast

    bad = make_fast(TradingClient("PKWRONG", "wrong", url_override=sandbox.base_url))
    with pytest.raises(APIError) as err:
        bad.get_account()
    assert err.value.status_code == 401 and error_json(err.value) == {"message": "unauthorized"}
    bare = requests.get(sandbox.base_url + "/v2/account", timeout=5)
    assert bare.status_code == 401
    data = requests.get(
        sandbox.base_url + "/v2/stocks/bars/latest?symbols=SPY",
        headers={"APCA-API-KEY-ID": "PKWRONG", "APCA-API-SECRET-KEY": "wrong"},
        timeout=5,
    )
    assert data.status_code == 403 and data.json() == {"message": "forbidden"}


def test_no_shorting_configuration_refuses_short_sales(trading):
    config = trading.get_account_configurations()
    config.no_shorting = True
    trading.set_account_configurations(config)
    with pytest.raises(APIError) as err:
        trading.submit_order(
            MarketOrderRequest(
                symbol="IWM", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY
            )
        )
    assert err.value.status_code == 403 and error_json(err.value)["code"] == 40310000


def test_ioc_limit_that_cannot_fill_is_canceled(trading):
    order = trading.submit_order(
        LimitOrderRequest(
            symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.IOC, limit_price=1
        )
    )
    assert trading.get_order_by_id(order.id).status == OrderStatus.CANCELED
