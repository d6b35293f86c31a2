"""The sandbox's order rules through alpaca-py: wash trades, shares held by open sells,
opg/cls auctions and extended hours, and the trade-update events of complex orders."""

from __future__ import annotations

from datetime import datetime

import pytest
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderStatus
from alpaca.trading.requests import (
    ClosePositionRequest,
    ReplaceOrderRequest,
    StopOrderRequest,
)
from alpaca.trading.stream import TradingStream

from tests.integration.sandbox_requests import bracket, limit, market, refused
from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.testing import StreamRunner, make_fast, running_sandbox, wait_until


class FakeClock:
    """A wall clock that a test sets by hand."""

    def __init__(self, start: datetime) -> None:
        """Start at ``start`` (aware)."""
        self.now = start

    def __call__(self) -> datetime:
        """The time it shows."""
        return self.now


def test_wash_trades_are_refused_only_when_the_orders_could_cross(sandbox, trading):
    trading.submit_order(limit("SPY", 2, "buy", 10))
    status, message = refused(lambda: trading.submit_order(market("SPY", 1, "sell")))
    assert (status, message) == (403, "potential wash trade detected. use complex orders")
    status, _ = refused(lambda: trading.submit_order(limit("SPY", 1, "sell", 9.5)))
    assert status == 403
    above = trading.submit_order(limit("SPY", 1, "sell", 10.5))  # cannot meet the buy at 10
    assert above.status == OrderStatus.PENDING_NEW
    assert trading.submit_order(market("QQQ", 1, "sell")).status == OrderStatus.PENDING_NEW


def test_shares_held_by_a_protective_stop_are_not_available(sandbox, trading):
    trading.submit_order(market("SPY", 10, "buy"))
    stop = round(sandbox.sandbox.feed.last_price("SPY") * 0.95, 2)
    trading.submit_order(
        StopOrderRequest(symbol="SPY", qty=10, side="sell", time_in_force="gtc", stop_price=stop)
    )
    assert float(trading.get_open_position("SPY").qty_available) == 0
    status, message = refused(lambda: trading.submit_order(market("SPY", 1, "sell")))
    assert status == 403
    assert message == "insufficient qty available for order (requested: 1, available: 0)"
    status, _ = refused(lambda: trading.close_position("SPY", ClosePositionRequest(qty="1")))
    assert status == 403
    status, message = refused(lambda: trading.submit_order(market("SPY", 1, "buy")))
    assert (status, message[:27]) == (403, "potential wash trade detect")


def test_opg_and_cls_orders_keep_their_cut_offs_and_fill_only_in_the_auctions():
    clock = FakeClock(datetime(2026, 11, 24, 8, 0, tzinfo=NEW_YORK))  # a Tuesday, pre-market
    with running_sandbox(hours="real", now=clock) as sb:
        client = make_fast(TradingClient(sb.key_id, sb.secret, url_override=sb.base_url))
        opening = client.submit_order(market("SPY", 2, "buy", "opg"))
        assert opening.status == OrderStatus.ACCEPTED
        sb.admin.step(1)
        assert client.get_order_by_id(opening.id).status == OrderStatus.ACCEPTED
        clock.now = datetime(2026, 11, 24, 9, 29, tzinfo=NEW_YORK)
        status, message = refused(lambda: client.submit_order(market("SPY", 1, "buy", "opg")))
        assert status == 422 and "09:28" in message
        clock.now = datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK)
        sb.admin.step(1)
        filled = client.get_order_by_id(opening.id)
        assert filled.status == OrderStatus.FILLED
        assert float(filled.filled_avg_price) == pytest.approx(sb.sandbox.feed.last_price("SPY"))

        closing = client.submit_order(market("QQQ", 3, "buy", "cls"))
        sb.admin.step(2)
        assert client.get_order_by_id(closing.id).status == OrderStatus.NEW  # not before 16:00
        clock.now = datetime(2026, 11, 24, 15, 51, tzinfo=NEW_YORK)
        status, message = refused(lambda: client.submit_order(market("QQQ", 1, "buy", "cls")))
        assert status == 422 and "15:50" in message
        clock.now = datetime(2026, 11, 24, 16, 0, tzinfo=NEW_YORK)
        sb.admin.step(1)
        assert client.get_order_by_id(closing.id).status == OrderStatus.FILLED
        assert float(client.get_open_position("QQQ").qty) == 3


def test_only_extended_hours_limit_orders_fill_after_the_close():
    clock = FakeClock(datetime(2026, 11, 24, 17, 0, tzinfo=NEW_YORK))  # after hours
    with running_sandbox(hours="real", now=clock) as sb:
        client = make_fast(TradingClient(sb.key_id, sb.secret, url_override=sb.base_url))
        high = round(sb.sandbox.feed.quote("SPY").ask * 1.01, 2)
        regular = client.submit_order(limit("SPY", 1, "buy", high, time_in_force="day"))
        sb.admin.step(1)
        assert client.get_order_by_id(regular.id).status == OrderStatus.ACCEPTED
        qqq = round(sb.sandbox.feed.quote("QQQ").ask * 1.01, 2)
        extended = client.submit_order(
            limit("QQQ", 1, "buy", qqq, time_in_force="day", extended_hours=True)
        )
        assert client.get_order_by_id(extended.id).status == OrderStatus.FILLED
        clock.now = datetime(2026, 11, 24, 20, 30, tzinfo=NEW_YORK)  # after-hours are over
        late = client.submit_order(
            limit("QQQ", 1, "buy", round(qqq * 1.05, 2), time_in_force="day", extended_hours=True)
        )
        sb.admin.step(1)
        assert client.get_order_by_id(late.id).status == OrderStatus.ACCEPTED


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


def events_until(runner: StreamRunner, last: tuple[str, str]) -> list[tuple[str, str]]:
    """``(order id, event)`` pairs received up to and including ``last``."""
    seen: list[tuple[str, str]] = []
    while not seen or seen[-1] != last:
        update = runner.next()
        seen.append((str(update.order.id), str(getattr(update.event, "value", update.event))))
    return seen


def test_bracket_and_replace_events_arrive_in_order(sandbox, trading, trade_updates):
    price = sandbox.sandbox.feed.last_price("SPY")
    entry = trading.submit_order(bracket("SPY", 4, round(price * 1.1, 2), round(price * 0.9, 2)))
    take_id, stop_id = (str(leg.id) for leg in entry.legs)
    seen = events_until(trade_updates, (take_id, "new"))
    entry_id = str(entry.id)
    assert seen == [
        (entry_id, "accepted"),
        (entry_id, "pending_new"),
        (entry_id, "new"),
        (entry_id, "fill"),
        (take_id, "new"),  # the stop leg stays held until its trigger: no event
    ]
    moved = trading.replace_order_by_id(
        take_id, ReplaceOrderRequest(limit_price=round(price * 1.2, 2))
    )
    assert events_until(trade_updates, (str(moved.id), "new")) == [
        (take_id, "replaced"),
        (str(moved.id), "new"),
    ]
    sandbox.admin.step(1, shock={"SPY": -15.0})
    assert events_until(trade_updates, (str(moved.id), "canceled")) == [
        (stop_id, "new"),  # triggered
        (stop_id, "fill"),
        (str(moved.id), "canceled"),  # one cancels the other
    ]


def test_a_cancel_passes_through_pending_cancel(sandbox, trading, trade_updates):
    order = trading.submit_order(limit("SPY", 1, "buy", 10))
    trading.cancel_order_by_id(order.id)
    oid = str(order.id)
    assert [event for _, event in events_until(trade_updates, (oid, "canceled"))] == [
        "accepted",
        "pending_new",
        "new",
        "pending_cancel",
        "canceled",
    ]
