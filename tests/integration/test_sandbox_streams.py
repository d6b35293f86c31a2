"""alpaca-py's TradingStream and StockDataStream against the sandbox's websocket streams."""

from __future__ import annotations

import json

import msgpack
import pytest
from alpaca.data.live.stock import StockDataStream
from alpaca.data.models import Bar, Quote, Trade
from alpaca.trading.enums import OrderSide, TimeInForce
from alpaca.trading.models import TradeUpdate
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest
from alpaca.trading.stream import TradingStream
from websockets.sync.client import connect

from tui_trader.sandbox.testing import StreamRunner, wait_until


@pytest.fixture
def trade_updates(sandbox):
    """A running TradingStream subscribed to trade updates (stopped after the test)."""
    stream = TradingStream(sandbox.key_id, sandbox.secret, url_override=sandbox.trading_stream_url)
    runner = StreamRunner(stream)
    stream.subscribe_trade_updates(runner.handler)
    runner.start()
    wait_until(lambda: sandbox.admin.state()["stream_clients"] >= 1, what="trading stream")
    yield runner
    runner.stop()


def event_of(name: str):
    """Accept trade updates whose event is ``name``."""
    return lambda update: update.event == name


def test_trade_updates_accepted_pending_new_new_then_fill(trading, trade_updates):
    order = trading.submit_order(
        MarketOrderRequest(
            symbol="SPY",
            qty=3,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            client_order_id="s-1",
        )
    )
    first = [trade_updates.next() for _ in range(3)]
    assert all(isinstance(u, TradeUpdate) and u.order.id == order.id for u in first)
    assert [u.event for u in first] == ["accepted", "pending_new", "new"]
    assert [u.order.status.value for u in first] == ["accepted", "pending_new", "new"]
    fill = trade_updates.next()
    assert fill.event == "fill" and fill.order.status.value == "filled"
    assert fill.qty == 3 and fill.position_qty == 3 and fill.price > 0
    assert fill.order.client_order_id == "s-1"


def test_trade_updates_canceled(trading, trade_updates):
    order = trading.submit_order(
        LimitOrderRequest(
            symbol="QQQ", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1
        )
    )
    trade_updates.next(event_of("new"))
    trading.cancel_order_by_id(order.id)
    canceled = trade_updates.next(event_of("canceled"))
    assert canceled.order.id == order.id and canceled.order.canceled_at is not None


def test_trade_updates_rejected_and_partial_fill_faults(sandbox, trading, trade_updates):
    sandbox.admin.set_faults(reject_rate=1)
    rejected = trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    update = trade_updates.next(event_of("rejected"))
    assert update.order.id == rejected.id
    assert trading.get_order_by_id(rejected.id).status.value == "rejected"
    sandbox.admin.set_faults(reset=True, partial_rate=1)
    split = trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=10, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    part = trade_updates.next(event_of("partial_fill"))
    assert part.order.id == split.id and part.qty == 5
    assert trading.get_order_by_id(split.id).status.value == "partially_filled"
    sandbox.admin.step(1)
    rest = trade_updates.next(event_of("fill"))
    assert rest.qty == 5 and float(rest.order.filled_qty) == 10


def test_fill_reported_only_on_the_stream(sandbox, trading, trade_updates):
    sandbox.admin.set_faults(stream_only_rate=1)
    order = trading.submit_order(
        MarketOrderRequest(symbol="IWM", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert trade_updates.next(event_of("fill")).order.id == order.id
    assert trading.get_order_by_id(order.id).status.value == "new"  # REST is stale
    sandbox.admin.step(1)
    assert trading.get_order_by_id(order.id).status.value == "filled"


def test_dropped_trading_stream_reconnects(sandbox, trading, trade_updates):
    assert sandbox.admin.drop_streams() == 1
    wait_until(lambda: sandbox.admin.state()["stream_clients"] >= 1, what="reconnection")
    trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert trade_updates.next(event_of("fill")).qty == 1


def test_trading_stream_refuses_wrong_keys(sandbox):
    with connect(sandbox.trading_stream_url, open_timeout=5) as ws:
        ws.send(json.dumps({"action": "authenticate", "data": {"key_id": "x", "secret_key": "y"}}))
        reply = json.loads(ws.recv(timeout=5))
    assert reply == {
        "stream": "authorization",
        "data": {"action": "authenticate", "status": "unauthorized"},
    }


@pytest.fixture
def data_stream(sandbox):
    """A running StockDataStream subscribed to SPY bars, quotes and trades."""
    stream = StockDataStream(sandbox.key_id, sandbox.secret, url_override=sandbox.data_stream_url)
    runner = StreamRunner(stream)
    stream.subscribe_bars(runner.handler, "SPY")
    stream.subscribe_quotes(runner.handler, "SPY")
    stream.subscribe_trades(runner.handler, "SPY")
    runner.start()
    wait_until(lambda: sandbox.admin.state()["stream_clients"] >= 1, what="data stream")
    yield runner
    runner.stop()


def test_data_stream_bars_and_quotes_on_each_step(sandbox, data_stream):
    sandbox.admin.step(1)
    got = {}
    for _ in range(3):  # one of each kind, in whatever order they come
        item = data_stream.next()
        got[type(item)] = item
    bar, quote, trade = got[Bar], got[Quote], got[Trade]
    latest = sandbox.sandbox.feed.latest_bar("SPY")
    assert bar.symbol == "SPY" and bar.close == latest.close and bar.timestamp == latest.timestamp
    assert bar.trade_count > 0 and bar.vwap > 0
    assert quote.symbol == "SPY" and quote.bid_price < quote.ask_price
    assert trade.price == latest.close and trade.size == 100
    sandbox.admin.set_faults(ws_drop=1)
    sandbox.admin.step(1)  # this step's message is lost: the connection is cut instead
    wait_until(lambda: sandbox.admin.state()["stream_clients"] == 0, what="the drop")
    sandbox.admin.clear_faults()
    wait_until(lambda: sandbox.admin.state()["stream_clients"] >= 1, what="reconnection")
    state = sandbox.admin.step(1)
    after = data_stream.next(lambda x: isinstance(x, Bar) and x.close == state["prices"]["SPY"])
    assert after.symbol == "SPY"


def test_data_stream_handshake_refuses_wrong_keys(sandbox):
    headers = {"Content-Type": "application/msgpack"}
    with connect(sandbox.data_stream_url, additional_headers=headers, open_timeout=5) as ws:
        assert msgpack.unpackb(ws.recv(timeout=5)) == [{"T": "success", "msg": "connected"}]
        ws.send(msgpack.packb({"action": "auth", "key": "x", "secret": "y"}))
        assert msgpack.unpackb(ws.recv(timeout=5)) == [
            {"T": "error", "code": 402, "msg": "auth failed"}
        ]


def test_data_stream_refuses_a_subscription_before_auth(sandbox):
    with connect(sandbox.data_stream_url, open_timeout=5) as ws:  # no msgpack header: JSON
        assert json.loads(ws.recv(timeout=5)) == [{"T": "success", "msg": "connected"}]
        ws.send(json.dumps({"action": "subscribe", "bars": ["SPY"]}))
        assert json.loads(ws.recv(timeout=5)) == [
            {"T": "error", "code": 401, "msg": "not authenticated"}
        ]


def test_a_second_data_connection_is_refused_like_alpaca(sandbox, data_stream):
    headers = {"Content-Type": "application/msgpack"}
    with connect(sandbox.data_stream_url, additional_headers=headers, open_timeout=5) as ws:
        ws.recv(timeout=5)
        ws.send(msgpack.packb({"action": "auth", "key": sandbox.key_id, "secret": sandbox.secret}))
        assert msgpack.unpackb(ws.recv(timeout=5)) == [
            {"T": "error", "code": 406, "msg": "connection limit exceeded"}
        ]


def _events_of(trade_updates, order_id, count):
    """The next ``count`` trade updates about ``order_id`` (others are skipped)."""
    return [trade_updates.next(lambda u: u.order.id == order_id).event for _ in range(count)]


def test_ws_duplicate_sends_each_trade_update_twice(sandbox, trading, trade_updates):
    sandbox.admin.set_faults(ws_duplicate=1)
    order = trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    events = _events_of(trade_updates, order.id, 8)
    assert events == [e for e in ("accepted", "pending_new", "new", "fill") for _ in (1, 2)]


def test_ws_reorder_sends_an_update_after_the_next_one(sandbox, trading, trade_updates):
    sandbox.admin.set_faults(ws_reorder=1)
    order = trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    # Every update is held back until the next one has gone: each pair arrives swapped.
    assert _events_of(trade_updates, order.id, 4) == ["pending_new", "accepted", "fill", "new"]


def test_ws_reorder_never_loses_the_last_update(sandbox, trading, trade_updates):
    sandbox.admin.set_faults(ws_reorder=1)
    order = trading.submit_order(
        LimitOrderRequest(
            symbol="QQQ", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.GTC, limit_price=1
        )
    )
    assert _events_of(trade_updates, order.id, 2) == ["pending_new", "accepted"]
    sandbox.admin.step(2)  # no next update for ``new``: it goes with the bar after next
    assert _events_of(trade_updates, order.id, 1) == ["new"]
    trading.cancel_order_by_id(order.id)
    assert _events_of(trade_updates, order.id, 2) == ["canceled", "pending_cancel"]


def test_ws_mute_sends_no_trade_update_and_keeps_the_connection(sandbox, trading, trade_updates):
    sandbox.admin.set_faults(ws_mute=1)
    muted = trading.submit_order(
        MarketOrderRequest(symbol="SPY", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    assert str(trading.get_order_by_id(muted.id).status.value) == "filled"  # REST knows
    sandbox.admin.set_faults(ws_mute=0)
    heard = trading.submit_order(
        MarketOrderRequest(symbol="QQQ", qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY)
    )
    # The stream keeps its order: none of the muted order's updates came before these.
    first = trade_updates.next()
    assert first.order.id == heard.id
    assert sandbox.admin.state()["stream_clients"] == 1  # never dropped


def test_a_hand_options_spread_is_listed_announced_and_cancelled(sandbox, trading, trade_updates):
    spread = sandbox.admin.options_order(
        [("SPY261218C00500000", "buy"), ("SPY261218C00510000", "sell")], qty=2, limit_price=1.5
    )
    assert [trade_updates.next().event for _ in range(2)] == ["pending_new", "new"]
    [listed] = trading.get_orders()
    assert (listed.order_class.value, listed.symbol, listed.side) == ("mleg", None, None)
    assert [(leg.symbol, leg.side.value) for leg in listed.legs] == [
        ("SPY261218C00500000", "buy"),
        ("SPY261218C00510000", "sell"),
    ]
    trading.cancel_order_by_id(spread["id"])
    canceled = trade_updates.next()
    assert (canceled.event, str(canceled.order.id)) == ("canceled", spread["id"])
    assert trading.get_orders() == []
