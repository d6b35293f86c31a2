"""The local paper broker: fills, costs, rejections and exact cash accounting."""

from datetime import UTC, datetime, timedelta

import pytest

from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce

GTC = TimeInForce.GTC

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def bar(symbol: str, day: int, o: float, h: float, lo: float, c: float) -> Bar:
    return Bar(symbol, T0 + timedelta(days=day), o, h, lo, c, 1_000_000)


def order(cid: str, side: Side, qty: float, symbol: str = "SPY", **kw) -> OrderRequest:
    return OrderRequest(symbol, side, qty, cid, **kw)


@pytest.fixture
def broker() -> PaperBroker:
    b = PaperBroker(10_000.0, ("SPY", "QQQ"), PaperCosts(10.0, 0.01, 1.0))
    b.on_bars({"SPY": bar("SPY", 0, 100, 101, 99, 100), "QQQ": bar("QQQ", 0, 50, 51, 49, 50)})
    return b


def test_market_order_fills_at_next_open_with_slippage_and_commission(broker: PaperBroker) -> None:
    """A buy fills at the next bar's open plus 10 bps; commission has its $1 minimum."""
    ack = broker.submit(order("a", Side.BUY, 10))
    assert ack.status is OrderStatus.NEW
    assert broker.drain_updates() == []
    broker.on_bars({"SPY": bar("SPY", 1, 102, 103, 101, 102.5)})
    (update,) = broker.drain_updates()
    fill = update.fill
    assert fill.price == pytest.approx(102 * 1.001)
    assert fill.commission == 1.0
    assert fill.slippage == pytest.approx(10 * 102 * 0.001)
    assert broker.cash == pytest.approx(10_000 - 10 * 102.102 - 1.0)
    assert broker.positions()["SPY"].qty == 10
    assert broker.account().equity == pytest.approx(broker.cash + 10 * 102.5)


def test_limit_order_fills_only_when_the_bar_trades_through(broker: PaperBroker) -> None:
    """A buy limit at 98 waits while lows stay above it, then fills at the limit."""
    broker.submit(order("l", Side.BUY, 5, order_type=OrderType.LIMIT, limit_price=98.0))
    broker.on_bars({"SPY": bar("SPY", 1, 100, 101, 98.5, 100)})
    assert broker.drain_updates() == []
    assert len(broker.open_orders()) == 1
    broker.on_bars({"SPY": bar("SPY", 1, 99, 99.5, 97, 98)})
    (update,) = broker.drain_updates()
    assert update.fill.price == 98.0 and update.fill.slippage == 0


def test_limit_that_opens_better_fills_at_the_open(broker: PaperBroker) -> None:
    """A gap down through a buy limit fills at the (better) open."""
    broker.submit(order("g", Side.BUY, 5, order_type=OrderType.LIMIT, limit_price=98.0))
    broker.on_bars({"SPY": bar("SPY", 1, 95, 96, 94, 95)})
    assert broker.drain_updates()[0].fill.price == 95.0


def test_unfilled_day_limit_expires_next_session(broker: PaperBroker) -> None:
    """A day limit order that never trades expires when the next session begins."""
    broker.submit(order("e", Side.BUY, 5, order_type=OrderType.LIMIT, limit_price=50.0))
    broker.on_bars({"SPY": bar("SPY", 1, 100, 101, 99, 100)})
    broker.on_bars({"SPY": bar("SPY", 2, 100, 101, 99, 100)})
    (update,) = broker.drain_updates()
    assert update.order.status is OrderStatus.EXPIRED
    assert broker.open_orders() == []


@pytest.mark.parametrize(
    ("req", "reason"),
    [
        (order("x1", Side.BUY, 1000), "insufficient buying power"),
        (order("x2", Side.BUY, 1, symbol="TSLA"), "unknown symbol TSLA"),
        (order("x3", Side.BUY, 0), "quantity must be positive"),
        (order("x4", Side.BUY, 1.5), "fractional shares are off"),
        (order("x5", Side.SELL, 1), "insufficient position"),
        (order("x6", Side.BUY, 1, order_type=OrderType.LIMIT), "positive limit price"),
    ],
)
def test_rejections_carry_reasons(broker: PaperBroker, req: OrderRequest, reason: str) -> None:
    """Each impossible order is rejected with the reason a trader needs."""
    ack = broker.submit(req)
    assert ack.status is OrderStatus.REJECTED
    assert reason in ack.reject_reason


def test_open_buys_reserve_buying_power(broker: PaperBroker) -> None:
    """Two buys that each fit but together do not: the second is rejected."""
    assert broker.submit(order("r1", Side.BUY, 60)).status is OrderStatus.NEW
    assert broker.submit(order("r2", Side.BUY, 60)).status is OrderStatus.REJECTED


def test_duplicate_client_order_id_is_rejected(broker: PaperBroker) -> None:
    """Like Alpaca, a client order id is unique forever."""
    broker.submit(order("dup", Side.BUY, 1))
    assert "unique" in broker.submit(order("dup", Side.BUY, 1)).reject_reason


def test_fractional_shares_by_option() -> None:
    """With fractional on, 0.5 shares fill."""
    b = PaperBroker(1000.0, ("SPY",), PaperCosts(0, 0, 0), fractional=True)
    b.on_bars({"SPY": bar("SPY", 0, 100, 100, 100, 100)})
    assert b.submit(order("f", Side.BUY, 0.5)).status is OrderStatus.NEW
    b.on_bars({"SPY": bar("SPY", 1, 100, 100, 100, 100)})
    assert b.positions()["SPY"].qty == 0.5


def test_cash_and_positions_reconcile_with_fills(broker: PaperBroker) -> None:
    """After a sequence of trades, cash and holdings equal the sum of the fills."""
    fills = []
    script = [
        ("SPY", Side.BUY, 20),
        ("QQQ", Side.BUY, 40),
        ("SPY", Side.SELL, 5),
        ("QQQ", Side.SELL, 40),
        ("SPY", Side.BUY, 3),
        ("SPY", Side.SELL, 18),
    ]
    for day, (sym, side, qty) in enumerate(script, start=1):
        broker.submit(order(f"o{day}", side, qty, symbol=sym))
        broker.on_bars(
            {
                "SPY": bar("SPY", day, 100 + day, 110, 90, 101 + day),
                "QQQ": bar("QQQ", day, 50 - day, 60, 40, 50),
            }
        )
        fills += [u.fill for u in broker.drain_updates() if u.fill]
    assert len(fills) == len(script)
    cash = 10_000 - sum(f.qty * f.price * f.side.sign + f.commission for f in fills)
    assert broker.cash == pytest.approx(cash)
    assert broker.positions() == {}


def test_the_broker_forgets_old_finished_orders_but_never_working_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long session's order memory is bounded; a working order is never forgotten."""
    from tui_trader.brokers import paper

    monkeypatch.setattr(paper, "REMEMBERED_ORDERS", 50)
    broker = PaperBroker(1e9, ("SPY",))
    broker.on_bars({"SPY": _bar_for_memory_test(0)})
    first = broker.submit(OrderRequest("SPY", Side.BUY, 1.0, "keep-me"))
    for i in range(400):
        broker.submit(OrderRequest("SPY", Side.SELL, 1e9, f"rejected-{i}"))
    assert len(broker._orders_by_client_id) <= 50 + 100
    assert broker.get_order("keep-me") == first
    assert broker.get_order("rejected-0") is None
    assert broker.get_order("rejected-399") is not None


def _bar_for_memory_test(i: int) -> Bar:
    """One SPY bar at 100."""
    return Bar("SPY", datetime(2026, 1, 5, 14, 30 + i, tzinfo=UTC), 100, 100, 100, 100, 1)


def _held_50(broker: PaperBroker) -> None:
    """Buy 50 SPY at the next open (100 and the slippage)."""
    broker.submit(order("h", Side.BUY, 50))
    broker.on_bars({"SPY": bar("SPY", 1, 100, 100, 100, 100)})
    broker.drain_updates()


def test_a_sell_stop_waits_above_its_price_then_fills_at_the_stop(broker: PaperBroker) -> None:
    """Lows above 95 leave the stop working; a bar trading down through it fills at 95 less
    the slippage, and the position is gone."""
    _held_50(broker)
    broker.submit(
        order("s", Side.SELL, 50, order_type=OrderType.STOP, stop_price=95.0, time_in_force=GTC)
    )
    broker.on_bars({"SPY": bar("SPY", 2, 99, 100, 95.5, 96)})
    assert broker.drain_updates() == []
    broker.on_bars({"SPY": bar("SPY", 3, 96, 97, 94, 94.5)})
    (update,) = broker.drain_updates()
    assert update.fill.price == pytest.approx(95 * 0.999)
    assert update.order.status is OrderStatus.FILLED and update.order.order_type is OrderType.STOP
    assert "SPY" not in broker.positions()


def test_a_gap_through_a_sell_stop_fills_at_the_open(broker: PaperBroker) -> None:
    """Opening at 90, below the stop at 95: the fill is at the open, not at the stop."""
    _held_50(broker)
    broker.submit(
        order("s", Side.SELL, 50, order_type=OrderType.STOP, stop_price=95.0, time_in_force=GTC)
    )
    broker.on_bars({"SPY": bar("SPY", 2, 90, 91, 88, 89)})
    assert broker.drain_updates()[0].fill.price == pytest.approx(90 * 0.999)


def test_a_working_stop_holds_its_shares_against_another_sell(broker: PaperBroker) -> None:
    """As at Alpaca, the shares under a working sell stop cannot be sold again."""
    _held_50(broker)
    broker.submit(
        order("s", Side.SELL, 50, order_type=OrderType.STOP, stop_price=95.0, time_in_force=GTC)
    )
    ack = broker.submit(order("x", Side.SELL, 10))
    assert ack.status is OrderStatus.REJECTED
    assert "insufficient position" in (ack.reject_reason or "")


def test_a_stop_limit_becomes_a_limit_and_does_not_sell_below_it(broker: PaperBroker) -> None:
    """Stop 95, limit 94: a gap to 90 triggers it but sells nothing below 94; a later bar
    reaching 94 fills at the limit."""
    _held_50(broker)
    broker.submit(
        order(
            "sl",
            Side.SELL,
            50,
            order_type=OrderType.STOP_LIMIT,
            stop_price=95.0,
            limit_price=94.0,
            time_in_force=GTC,
        )
    )
    broker.on_bars({"SPY": bar("SPY", 2, 90, 93, 89, 92)})
    assert broker.drain_updates() == []
    broker.on_bars({"SPY": bar("SPY", 3, 92, 94.5, 91, 94)})
    assert broker.drain_updates()[0].fill.price == 94.0


def test_a_trailing_stop_follows_the_high_and_triggers_from_there(broker: PaperBroker) -> None:
    """A 5% trail placed at 100 moves up with a high of 120 (stop 114) and sells at 114 when the
    price falls back, not at the first stop of 95."""
    _held_50(broker)
    broker.submit(
        order(
            "t",
            Side.SELL,
            50,
            order_type=OrderType.TRAILING_STOP,
            trail_percent=5,
            time_in_force=GTC,
        )
    )
    assert broker.get_order("t").stop_price == 95.0
    broker.on_bars({"SPY": bar("SPY", 2, 110, 120, 109, 119)})
    assert broker.drain_updates() == []
    assert broker.get_order("t").stop_price == 114.0
    broker.on_bars({"SPY": bar("SPY", 3, 118, 118, 110, 111)})
    assert broker.drain_updates()[0].fill.price == pytest.approx(114 * 0.999)


def test_a_gtc_stop_outlives_the_day_and_a_day_stop_expires(broker: PaperBroker) -> None:
    """A GTC stop is still working days later; a day stop expires with its session."""
    _held_50(broker)
    broker.submit(
        order(
            "g",
            Side.SELL,
            25,
            order_type=OrderType.STOP,
            stop_price=90.0,
            time_in_force=GTC,
        )
    )
    broker.submit(order("d", Side.SELL, 25, order_type=OrderType.STOP, stop_price=90.0))
    broker.on_bars({"SPY": bar("SPY", 2, 100, 101, 99, 100)})
    broker.on_bars({"SPY": bar("SPY", 3, 100, 101, 99, 100)})
    assert [o.client_order_id for o in broker.open_orders()] == ["g"]
    assert broker.get_order("d").status is OrderStatus.EXPIRED


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"order_type": OrderType.STOP}, "a stop order needs a positive stop price"),
        (
            {"order_type": OrderType.STOP_LIMIT, "stop_price": 95.0},
            "a stop_limit order needs a positive limit price",
        ),
        (
            {"order_type": OrderType.TRAILING_STOP, "trail_percent": 0.0},
            "a trailing stop needs a trail percent between 0 and 100",
        ),
    ],
)
def test_stop_orders_without_their_prices_are_rejected(broker: PaperBroker, kw, reason) -> None:
    """Each type names the price it is missing."""
    _held_50(broker)
    ack = broker.submit(order("bad", Side.SELL, 10, **kw))
    assert ack.status is OrderStatus.REJECTED and ack.reject_reason == reason


def test_replacing_a_stop_resizes_it_in_one_step(broker: PaperBroker) -> None:
    """The new stop takes the old one's shares; a replacement the broker refuses leaves the
    old stop working."""
    _held_50(broker)
    stop = dict(order_type=OrderType.STOP, time_in_force=GTC)
    broker.submit(order("s1", Side.SELL, 50, stop_price=95.0, **stop))
    ack = broker.replace("s1", order("s2", Side.SELL, 40, stop_price=96.0, **stop))
    assert ack is not None and ack.status is OrderStatus.NEW
    assert [(o.client_order_id, o.qty) for o in broker.open_orders()] == [("s2", 40)]
    assert broker.get_order("s1").status is OrderStatus.CANCELED
    refused = broker.replace("s2", order("s3", Side.SELL, 60, stop_price=96.0, **stop))
    assert refused is not None and refused.status is OrderStatus.REJECTED
    assert [o.client_order_id for o in broker.open_orders()] == ["s2"]
    assert broker.replace("gone", order("s4", Side.SELL, 1, stop_price=1.0, **stop)) is None
