"""Orders in doubt (their answer lost) count as filled wherever that is the stricter reading:
a buy in doubt takes room under the position limit, a sell in doubt takes shares from what a
sell may take and frees no room for a buy; counted once, never a stop, and not after they
settle (``risk.holdings``, ``engine.settlement``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tui_trader.core.domain import Position
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderType, Side
from tui_trader.engine.settlement import Unsettled
from tui_trader.risk.gate import NO_SHORT, POSITION_SIZE, RiskLimits, RiskManager, RiskState
from tui_trader.risk.holdings import holdings

PRICE, EQUITY = 100.0, 100_000.0
"""At $100 a share the default 10% limit is 100 shares."""
HELD = {"SPY": Position("SPY", 100, PRICE, PRICE)}
T0 = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def _order(side: Side, qty: float, cid: str, status: OrderStatus, kind: str = "market") -> Order:
    return Order(cid, "SPY", side, qty, OrderType(kind), status, stop_price=90.0)


def _doubt(side: Side, qty: float, cid: str = "tt-k-1-SPY-r", kind: str = "market") -> Order:
    """An order whose answer was lost: the broker does not know it yet."""
    return _order(side, qty, cid, OrderStatus.UNKNOWN, kind)


def _check(side: Side, qty: float, working=(), in_doubt=()):
    """The gate's verdict on a new order in SPY beside ``working`` and ``in_doubt``."""
    held = holdings(HELD, list(working), list(in_doubt))["SPY"]
    risk = RiskManager(RiskLimits(), RiskState("acct"), allow_short=False)
    request = OrderRequest("SPY", side, qty, "new")
    return risk.check_order(request, PRICE, EQUITY, held.facing(side.sign), held.sellable)


def test_a_sell_in_doubt_frees_no_room_for_a_buy_and_leaves_no_shares_to_sell() -> None:
    """Held 100 (the whole limit), a sell of 100 in doubt: a buy finds no room (it may never
    have reached the broker: the 100 are still held), a sell finds no shares. A sell the
    broker works frees no room either (it may never fill: a limit far above the market)."""
    refused = _check(Side.BUY, 50, in_doubt=[_doubt(Side.SELL, 100)])
    assert refused.order is None
    assert [e.event_type for e in refused.events] == [POSITION_SIZE]
    short = _check(Side.SELL, 1, in_doubt=[_doubt(Side.SELL, 100)])
    assert short.order is None and short.events[0].event_type == NO_SHORT
    working = _order(Side.SELL, 100, "tt-k-1-SPY-r", OrderStatus.NEW)
    assert _check(Side.BUY, 50, working=[working]).order is None


def test_a_buy_in_doubt_the_broker_lists_too_is_counted_once_and_a_stop_not_at_all() -> None:
    """Nothing held; a buy of 60 in doubt that the broker now lists as working: 40 more fit
    under the limit (not none, as counted twice). A stop in doubt is insurance, not a sale:
    it leaves the shares a sell may take alone."""
    empty: dict[str, Position] = {}
    listed = _order(Side.BUY, 60, "tt-k-1-SPY-r", OrderStatus.NEW)
    book = holdings(empty, [listed], [_doubt(Side.BUY, 60)])
    assert book["SPY"].facing(1) == 60
    stop = _doubt(Side.SELL, 100, "tt-k-1-SPY-ps1", "stop")
    assert holdings(HELD, [], [stop])["SPY"].sellable == 100


def test_an_order_in_doubt_counts_until_it_is_not_received() -> None:
    """A buy of 60 in doubt beside 30 held: a buy of 20 is cut to the 10 the limit leaves;
    once the order is ``not_received`` (absent twice past its window) the 20 go out whole."""
    unsettled = Unsettled(timedelta(minutes=2))
    unsettled.add(_doubt(Side.BUY, 60), T0, now=T0)
    held = {"SPY": Position("SPY", 30, PRICE, PRICE)}
    risk = RiskManager(RiskLimits(), RiskState("acct"))

    def sent() -> float:
        book = holdings(held, [], unsettled.in_doubt())
        request = OrderRequest("SPY", Side.BUY, 20, "new")
        check = risk.check_order(request, PRICE, EQUITY, book["SPY"].facing(1), 0.0)
        return check.order.qty if check.order is not None else 0.0

    assert sent() == 10
    settled = unsettled.check(_Absent(), T0 + timedelta(minutes=3))  # type: ignore[arg-type]
    assert [o.status for o in settled.orders] == [OrderStatus.NOT_RECEIVED]
    assert sent() == 20


def test_at_the_days_order_limit_only_what_surely_closes_passes() -> None:
    """The day's orders used up (1 of 1), the position 100: a sell of what is held less a sell
    in doubt passes (it only closes), one share more is refused, as is any buy. Short 100 with
    short selling on: a buy covering what is short less a buy in doubt passes, a bigger one
    (it could turn the position long) is refused."""
    used = RiskState("acct", orders_today=1)

    def sent(positions, side: Side, qty: float, in_doubt) -> bool:
        held = holdings(positions, [], in_doubt)["SPY"]
        risk = RiskManager(RiskLimits(max_orders_per_day=1), used, allow_short=True)
        request = OrderRequest("SPY", side, qty, "new")
        closable = held.closable(side.sign, positions["SPY"].qty)
        check = risk.check_order(
            request, PRICE, EQUITY, held.facing(side.sign), held.sellable, closable
        )
        return check.order is not None

    doubt_sell = [_doubt(Side.SELL, 30)]
    assert sent(HELD, Side.SELL, 70, doubt_sell)
    assert not sent(HELD, Side.SELL, 71, doubt_sell)
    assert not sent(HELD, Side.BUY, 1, ())
    short = {"SPY": Position("SPY", -100, PRICE, PRICE)}
    doubt_buy = [_doubt(Side.BUY, 40)]
    assert sent(short, Side.BUY, 60, doubt_buy)
    assert not sent(short, Side.BUY, 61, doubt_buy)
    assert not sent(short, Side.SELL, 1, ())


class _Absent:
    """A broker that has never heard of any order."""

    def __init__(self) -> None:
        self.ended: list[Order] = []

    def get_order(self, client_order_id: str) -> Order | None:
        return None

    def adopt(self, order: Order) -> None:
        """Told of an order it will never have (``not_received``)."""
        self.ended.append(order)
