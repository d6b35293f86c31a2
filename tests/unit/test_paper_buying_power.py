"""The paper broker's buying power for a burst of orders: every working buy counts, and one
cancelled or replaced in the middle of the burst stops counting at once (issue 17 sums the
working buys once per burst instead of once per order)."""

from datetime import UTC, datetime

from tui_trader.brokers.paper import PaperBroker
from tui_trader.brokers.paper_account import PaperCosts
from tui_trader.core.domain import Bar
from tui_trader.core.orders import OrderRequest, OrderStatus, OrderType, Side

T0 = datetime(2024, 1, 2, 14, 30, tzinfo=UTC)


def _broker() -> PaperBroker:
    """$10,000 cash, SPY at 100, 10 bps slippage: 40 shares hold back $4,004."""
    broker = PaperBroker(10_000.0, ("SPY", "QQQ"), PaperCosts(10.0, 0.01, 1.0))
    broker.on_bars({"SPY": Bar("SPY", T0, 100, 101, 99, 100, 1_000_000)})
    return broker


def _buy(broker: PaperBroker, cid: str, qty: float) -> OrderStatus:
    return broker.submit(OrderRequest("SPY", Side.BUY, qty, cid)).status


def test_working_buys_hold_buying_power_back_until_cancelled() -> None:
    """Two buys of 40 leave too little for a third; cancelling the first frees its share."""
    broker = _broker()
    assert [_buy(broker, c, 40) for c in ("a", "b", "c")] == [
        OrderStatus.NEW,
        OrderStatus.NEW,
        OrderStatus.REJECTED,
    ]
    assert broker.account().buying_power == 10_000 - 2 * 4_004
    broker.cancel("a")
    assert _buy(broker, "d", 40) is OrderStatus.NEW
    assert broker.account().buying_power == 10_000 - 2 * 4_004


def test_a_replaced_buy_holds_back_only_its_new_size() -> None:
    """A working buy of 40 replaced by one of 10 leaves room for another 40."""
    broker = _broker()
    assert _buy(broker, "a", 40) is OrderStatus.NEW
    assert _buy(broker, "b", 40) is OrderStatus.NEW
    assert _buy(broker, "c", 40) is OrderStatus.REJECTED
    smaller = OrderRequest("SPY", Side.BUY, 10, "b2", order_type=OrderType.MARKET)
    assert broker.replace("b", smaller).status is OrderStatus.NEW
    assert _buy(broker, "d", 40) is OrderStatus.NEW
    assert broker.account().buying_power == 10_000 - 4_004 - 1_001 - 4_004


def test_a_buy_cancelled_before_a_sell_and_a_buy_stops_counting() -> None:
    """Hold 10 SPY ($8,998 cash left); working buys of 40 and 30; the first is cancelled, a
    sell of 5 goes in (a sell of held shares needs no buying power), then a buy of 50
    ($5,006 with costs): it fits beside the buy of 30 ($3,003) alone."""
    broker = _broker()
    assert _buy(broker, "held", 10) is OrderStatus.NEW
    broker.on_bars({"SPY": Bar("SPY", T0.replace(minute=31), 100, 101, 99, 100, 1_000_000)})
    assert broker.positions()["SPY"].qty == 10
    assert _buy(broker, "a", 40) is OrderStatus.NEW
    assert _buy(broker, "b", 30) is OrderStatus.NEW
    broker.cancel("a")
    assert broker.submit(OrderRequest("SPY", Side.SELL, 5, "s")).status is OrderStatus.NEW
    assert _buy(broker, "c", 50) is OrderStatus.NEW
