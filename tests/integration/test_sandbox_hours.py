"""``--hours real``: orders wait for the open, day orders expire at the close (fake clock)."""

from __future__ import annotations

from datetime import datetime

from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, TimeInForce
from alpaca.trading.requests import LimitOrderRequest, MarketOrderRequest

from tui_trader.core.timeframes import NEW_YORK
from tui_trader.sandbox.testing import make_fast, running_sandbox


class FakeClock:
    """A wall clock that a test sets by hand."""

    def __init__(self, start: datetime) -> None:
        """Start at ``start`` (aware)."""
        self.now = start

    def __call__(self) -> datetime:
        """The time it shows."""
        return self.now


def test_real_hours_queue_orders_while_closed_and_expire_day_orders():
    clock = FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=NEW_YORK))  # a Tuesday, open
    with running_sandbox(hours="real", now=clock) as sb:
        client = make_fast(TradingClient(sb.key_id, sb.secret, url_override=sb.base_url))
        assert client.get_clock().is_open is True
        day = client.submit_order(
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=1,
            )
        )
        gtc = client.submit_order(
            LimitOrderRequest(
                symbol="SPY",
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=1,
            )
        )
        assert day.expires_at is not None and day.expires_at.astimezone(NEW_YORK).hour == 16

        clock.now = datetime(2026, 11, 24, 17, 0, tzinfo=NEW_YORK)  # after the close
        sb.admin.step(1)
        assert client.get_order_by_id(day.id).status == OrderStatus.EXPIRED
        assert client.get_order_by_id(gtc.id).status == OrderStatus.NEW
        assert client.get_clock().is_open is False
        queued = client.submit_order(
            MarketOrderRequest(
                symbol="QQQ", qty=2, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        )
        assert queued.status == OrderStatus.ACCEPTED
        sb.admin.step(1)
        assert client.get_order_by_id(queued.id).status == OrderStatus.ACCEPTED

        clock.now = datetime(2026, 11, 25, 9, 31, tzinfo=NEW_YORK)  # next session
        sb.admin.step(1)
        assert client.get_order_by_id(queued.id).status == OrderStatus.FILLED
        assert float(client.get_open_position("QQQ").qty) == 2
