"""The position limit against working orders that go the other way: a sell still working
(a limit far above the market, placed by hand) may never fill, so it frees no room for a buy
(``risk.holdings``, ``Holding.facing``)."""

from __future__ import annotations

from tests.conftest import BuyAndHold, make_session
from tests.integration.test_manual_orders import Flat
from tui_trader.core.orders import OrderType, Side, TimeInForce
from tui_trader.engine.manual_orders import ManualOrder
from tui_trader.risk.gate import POSITION_SIZE


def _share(session, symbol: str) -> float:
    """The position's market value as a share of equity."""
    position = session.broker.positions()[symbol]
    return abs(position.qty) * session.last_prices[symbol] / session.broker.account().equity


def test_a_working_sell_far_above_the_market_frees_no_room_for_a_buy(db_path) -> None:
    """The desk holds SPY up to the 10% limit; a GTC limit sell of it all at twice the price
    works on; a buy by hand of as much again is refused by the position limit and the position
    stays within it. Before, the working sell counted as sold: the buy went out whole and
    filled, the position twice the limit while the sell never filled."""
    session = make_session(db_path, strategies=[BuyAndHold()])
    session.run_iteration()
    session.run_iteration()
    held = session.broker.positions()["SPY"].qty
    assert held > 0 and _share(session, "SPY") <= 0.10 + 0.01
    high = round(session.last_prices["SPY"] * 2, 2)
    sell = ManualOrder(
        "SPY",
        Side.SELL,
        qty=held,
        order_type=OrderType.LIMIT,
        limit_price=high,
        time_in_force=TimeInForce.GTC,
    )
    session.request_manual_order(sell)
    [working] = session.apply_kill_requests().orders
    room = 0.10 * session.broker.account().equity / session.last_prices["SPY"] - held
    session.request_manual_order(ManualOrder("SPY", Side.BUY, qty=held))
    report = session.apply_kill_requests()
    sent = sum(order.qty for order in report.orders)  # what the bars' moves left room for
    assert sent <= max(room, 0.0) + 1e-9 and sent < held
    assert [e.event_type for e in report.risk_events] == [POSITION_SIZE]
    session.run_iteration()
    session.run_iteration()
    assert session.broker.positions()["SPY"].qty == held + sent
    assert _share(session, "SPY") <= 0.10 + 0.01  # a bar's move, not twice the limit
    assert working.client_order_id in [o.client_order_id for o in session.broker.open_orders()]


def test_a_short_sale_limit_above_the_market_is_sized_at_its_limit_price(db_path) -> None:
    """Short selling on, nothing held: a limit sell at twice the market fills only at that
    price or better, so the position limit sizes it there (as it sizes a buy at its limit or
    stop): the short it opens is worth at most 10% of equity when it fills. Before, it was
    sized at the last price: the short was worth twice the limit the moment it filled."""
    session = make_session(db_path, strategies=[Flat()], allow_short=True)
    session.run_iteration()
    equity = session.broker.account().equity
    high = round(session.last_prices["SPY"] * 2, 2)
    session.request_manual_order(
        ManualOrder(
            "SPY",
            Side.SELL,
            qty=100_000,
            order_type=OrderType.LIMIT,
            limit_price=high,
            time_in_force=TimeInForce.GTC,
        )
    )
    report = session.apply_kill_requests()
    [order] = report.orders
    assert order.side is Side.SELL and order.qty > 0
    assert order.qty * high <= 0.10 * equity + 1e-6
    assert [e.event_type for e in report.risk_events] == [POSITION_SIZE]
