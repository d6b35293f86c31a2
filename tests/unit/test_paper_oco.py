"""The local paper broker's OCO exit pairs: a take-profit limit and a stop working together,
the fill of either ending both, the shares held once, bad prices refused (as at Alpaca)."""

import pytest

from tests.unit.test_paper_broker import bar, order
from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.orders import OrderClass, OrderStatus, OrderType, Side, TimeInForce

OCO = {
    "order_type": OrderType.LIMIT,
    "order_class": OrderClass.OCO,
    "time_in_force": TimeInForce.GTC,
}


@pytest.fixture
def held() -> PaperBroker:
    """50 SPY bought at 100 (and 10 bps of slippage)."""
    b = PaperBroker(10_000.0, ("SPY",), PaperCosts(10.0, 0.01, 1.0))
    b.on_bars({"SPY": bar("SPY", 0, 100, 101, 99, 100)})
    b.submit(order("h", Side.BUY, 50))
    b.on_bars({"SPY": bar("SPY", 1, 100, 100, 100, 100)})
    b.drain_updates()
    return b


def _pair(b: PaperBroker, qty: float = 50, limit: float = 108.0, stop: float = 95.0):
    return b.submit(order("p", Side.SELL, qty, limit_price=limit, stop_price=stop, **OCO))


def test_the_take_profit_leg_fills_at_its_limit_and_the_pair_is_done(held: PaperBroker) -> None:
    """Highs below 108 and lows above 95 leave the pair working; a bar up through 108 sells
    all 50 at the limit, and nothing of the pair is left."""
    assert _pair(held).status is OrderStatus.NEW
    held.on_bars({"SPY": bar("SPY", 2, 100, 107, 96, 104)})
    assert held.drain_updates() == [] and len(held.open_orders()) == 1
    held.on_bars({"SPY": bar("SPY", 3, 104, 110, 103, 109)})
    (update,) = held.drain_updates()
    assert (update.fill.price, update.fill.qty) == (108.0, 50)
    assert update.order.status is OrderStatus.FILLED
    assert held.open_orders() == [] and "SPY" not in held.positions()


def test_the_stop_leg_fills_like_a_stop(held: PaperBroker) -> None:
    """A bar down through 95 sells at the stop less the slippage; the limit leg ends with it."""
    _pair(held)
    held.on_bars({"SPY": bar("SPY", 2, 97, 98, 93, 94)})
    (update,) = held.drain_updates()
    assert update.fill.price == pytest.approx(95 * 0.999)
    assert held.open_orders() == [] and "SPY" not in held.positions()


def test_a_bar_through_both_legs_fills_the_stop_and_a_gap_fills_at_the_open(
    held: PaperBroker,
) -> None:
    """A bar whose range reaches both does not say which came first: the worse leg (the stop)
    fills. A gap above the limit fills the take profit at the (better) open."""
    _pair(held)
    held.on_bars({"SPY": bar("SPY", 2, 100, 110, 90, 100)})
    assert held.drain_updates()[0].fill.price == pytest.approx(95 * 0.999)
    held.submit(order("b", Side.BUY, 50))
    held.on_bars({"SPY": bar("SPY", 3, 100, 100, 100, 100)})
    held.drain_updates()
    held.submit(order("q", Side.SELL, 50, limit_price=108.0, stop_price=95.0, **OCO))
    held.on_bars({"SPY": bar("SPY", 4, 112, 113, 111, 112)})
    assert held.drain_updates()[0].fill.price == 112.0


def test_the_pair_holds_its_shares_once(held: PaperBroker) -> None:
    """Both legs sell the same 50 shares: no other sell of them is accepted, and a pair for
    more than is held is refused."""
    _pair(held)
    ack = held.submit(order("x", Side.SELL, 10))
    assert ack.status is OrderStatus.REJECTED and "insufficient position" in ack.reject_reason
    held.cancel("p")
    too_many = held.submit(order("y", Side.SELL, 60, limit_price=108.0, stop_price=95.0, **OCO))
    assert too_many.status is OrderStatus.REJECTED


@pytest.mark.parametrize(
    ("limit", "stop", "reason"),
    [
        (None, 95.0, "require take_profit.limit_price and stop_loss.stop_price"),
        (108.0, None, "require take_profit.limit_price and stop_loss.stop_price"),
        (95.0, 108.0, "must be below its take profit"),
    ],
)
def test_a_pair_with_bad_prices_is_refused(held: PaperBroker, limit, stop, reason) -> None:
    """A missing price, or a stop above a sell's take profit: refused with the reason."""
    ack = held.submit(order("z", Side.SELL, 50, limit_price=limit, stop_price=stop, **OCO))
    assert ack.status is OrderStatus.REJECTED and reason in (ack.reject_reason or "")
