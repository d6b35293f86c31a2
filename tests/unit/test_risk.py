"""Each risk control trips at its limit and not before, and says what it did."""

from datetime import date

import pytest

from tui_trader.core.domain import Position, TradingState
from tui_trader.core.orders import Order, OrderRequest, OrderStatus, OrderType, Side
from tui_trader.risk import gate
from tui_trader.risk.gate import (
    DAILY_LOSS,
    DRAWDOWN,
    MANUAL_KILL,
    NO_SHORT,
    ORDER_RATE,
    POSITION_SIZE,
    RiskLimits,
    RiskManager,
    RiskState,
)
from tui_trader.risk.holdings import Holding, holdings

D1, D2 = date(2024, 3, 4), date(2024, 3, 5)


def manager(**limits) -> RiskManager:
    return RiskManager(RiskLimits(**limits), RiskState("acct"))


def buy(qty: float, symbol: str = "SPY") -> OrderRequest:
    return OrderRequest(symbol, Side.BUY, qty, f"id-{qty}", rationale="test")


def test_defaults_are_the_phase_4_limits() -> None:
    """5% drawdown, 2% daily loss, 10% position, 100 orders a day."""
    assert RiskLimits() == RiskLimits(5.0, 2.0, 10.0, 100)


def test_drawdown_trips_at_the_limit_not_before() -> None:
    """4.99% below the peak passes; 5.00% halts until reset."""
    risk = manager(max_daily_loss_pct=50)
    risk.on_equity(100_000, D1)
    risk.on_equity(110_000, D1)
    assert risk.on_equity(110_000 * 0.9501, D1) == []
    (event,) = risk.on_equity(110_000 * 0.95, D1)
    assert event.event_type == DRAWDOWN and event.limit == 5.0
    assert event.value == pytest.approx(5.0)
    assert "until reset" in event.action_taken
    assert risk.state.state is TradingState.HALTED
    risk.on_equity(120_000, D2)
    assert risk.state.halted, "a drawdown halt outlives the day"


def test_daily_loss_trips_at_the_limit_and_ends_with_the_day() -> None:
    """1.99% down on the day passes; 2% halts; the next trading day re-arms."""
    risk = manager()
    risk.on_equity(100_000, D1)
    assert risk.on_equity(98_001, D1) == []
    (event,) = risk.on_equity(98_000, D1)
    assert event.event_type == DAILY_LOSS and "next trading day" in event.action_taken
    events = risk.on_equity(98_000, D2)
    assert not risk.state.halted
    assert "new trading day" in events[0].action_taken
    assert risk.state.day_open_equity == 98_000


def test_daily_loss_uses_the_brokers_previous_close_when_given() -> None:
    """Alpaca's last_equity is the day's opening equity."""
    risk = manager()
    risk.on_equity(100_000, D1)
    (event,) = risk.on_equity(101_000, D2, day_open_equity=103_100)
    assert event.event_type == DAILY_LOSS


def test_position_limit_reduces_an_order_to_fit() -> None:
    """10% of 100k at $100 is 100 shares: 150 asked, 40 held -> 60 sent, with an event."""
    risk = manager()
    check = risk.check_order(buy(150), 100.0, 100_000, committed_qty=40, sellable_qty=40)
    assert check.order.qty == 60
    (event,) = check.events
    assert event.event_type == POSITION_SIZE and "reduced from 150 to 60" in event.action_taken
    assert "position limit" in check.order.rationale


def test_position_limit_counts_open_orders_and_refuses_when_full() -> None:
    """With 100 shares already committed (held + open orders) a further buy is refused."""
    check = manager().check_order(buy(1), 100.0, 100_000, committed_qty=100, sellable_qty=0)
    assert check.order is None
    assert "refused" in check.events[0].action_taken


def test_exactly_at_the_position_limit_passes() -> None:
    """An order that lands exactly on 10% is not touched."""
    check = manager().check_order(buy(100), 100.0, 100_000, committed_qty=0, sellable_qty=0)
    assert check.order.qty == 100 and check.events == ()


def test_orders_that_shrink_exposure_always_pass_the_position_limit() -> None:
    """Selling part of an oversized position is allowed."""
    sell = OrderRequest("SPY", Side.SELL, 50, "s")
    check = manager().check_order(sell, 100.0, 100_000, committed_qty=300, sellable_qty=300)
    assert check.order.qty == 50


def _slot_taken(risk: RiskManager) -> None:
    """Count one order sent, as its slot of the day counts it (``_reserve_slot``): the gate
    only decides."""
    risk.state = risk.state.with_orders(risk.state.orders_today + 1)


def test_order_rate_limit_trips_after_the_nth_order_and_resets_daily() -> None:
    """Three orders a day: the fourth is refused; the next day it passes. Passing an order
    counts nothing by itself (an order held after the gate has no count to give back)."""
    risk = manager(max_orders_per_day=3)
    risk.on_equity(100_000, D1)
    for i in range(3):
        assert risk.check_order(buy(1), 100.0, 100_000, i, i).order is not None
        assert risk.state.orders_today == i
        _slot_taken(risk)
    check = risk.check_order(buy(1), 100.0, 100_000, 3, 3)
    assert check.order is None and check.events[0].event_type == ORDER_RATE
    risk.on_equity(100_000, D2)
    assert risk.check_order(buy(1), 100.0, 100_000, 3, 3).order is not None


def test_halted_refuses_new_exposure_but_lets_positions_close() -> None:
    """While halted a buy is refused and a closing sell passes."""
    risk = manager()
    risk.halt("manual_kill", 0, 0, "test")
    assert risk.check_order(buy(1), 100.0, 100_000, 0, 0).order is None
    sell = OrderRequest("SPY", Side.SELL, 10, "s")
    assert risk.check_order(sell, 100.0, 100_000, 10, 10).order is not None


def test_halted_with_short_selling_on_a_sell_past_the_position_is_refused_not_a_new_short() -> None:
    """Halted, a sell of more than is held would close the long and open a short: smaller in
    size, but new risk a halted desk must not take. It is refused in words that say so; a sell
    of the shares held still closes the position, and a buy that covers a short no further
    than flat passes."""
    risk = RiskManager(RiskLimits(), RiskState("acct"), allow_short=True)
    risk.halt("manual_kill", 0, 0, "test")
    flip = OrderRequest("SPY", Side.SELL, 15, "f")
    check = risk.check_order(flip, 100.0, 100_000, 10, 10)
    assert check.order is None and check.events[0].event_type == gate.HALTED_ORDER
    assert "turn 10 long into 5 short (at most 10 closes it)" in check.events[0].action_taken
    assert risk.refusal_kind(-1, 15.0, 10.0, 10.0) == gate.HALTED_ORDER
    close = OrderRequest("SPY", Side.SELL, 10, "c")
    assert risk.check_order(close, 100.0, 100_000, 10, 10).order is not None
    assert risk.check_order(buy(25), 100.0, 100_000, -20, 0).order is None  # short 20 → long 5
    assert risk.check_order(buy(20), 100.0, 100_000, -20, 0).order is not None


def test_halted_a_hand_order_past_what_shrinks_the_position_is_refused() -> None:
    """Halted with short selling on, 100 SPY held and a buy of 50 working (another store's desk
    of the account, or one whose cancel the broker has not confirmed): a sell of 120 by hand,
    measured against the 150 the buy would make, looked like 150 to 30, smaller; if the buy is
    cancelled, as the halt asks, the sell leaves the halted account short 20. It is refused in
    words that say how much only shrinks the position; a sell of the 100 held passes. The same
    the other way: short 100 with a sell of 50 working, a buy of 120 is refused."""
    risk = RiskManager(RiskLimits(), RiskState("acct"), allow_short=True)
    risk.halt("manual_kill", 0, 0, "test")
    long = {"SPY": Position("SPY", 100, 100.0, 100.0)}
    held = holdings(long, [_working(Side.BUY, 50, "tt-k-1-SPY-m1")])["SPY"]
    closable = held.closable(-1, 100)
    sell = OrderRequest("SPY", Side.SELL, 120, "s")
    check = risk.check_order(sell, 100.0, 100_000, held.facing(-1), held.sellable, closable)
    assert check.order is None, "a halted desk sent a sell that can leave it short"
    [event] = check.events
    assert event.event_type == gate.HALTED_ORDER
    assert event.action_taken == (
        "refused sell 120 SPY: trading is halted (manual_kill); it would turn 100 long into "
        "20 short (at most 100 closes it)"
    )
    close = OrderRequest("SPY", Side.SELL, 100, "c")
    assert risk.check_order(close, 100.0, 100_000, 150, 100, closable).order is not None
    short = {"SPY": Position("SPY", -100, 100.0, 100.0)}
    held = holdings(short, [_working(Side.SELL, 50, "tt-k-1-SPY-m2")])["SPY"]
    closable = held.closable(1, -100)
    check = risk.check_order(buy(120), 100.0, 100_000, held.facing(1), held.sellable, closable)
    assert check.order is None, "a halted desk sent a buy that can leave it long"
    check = risk.check_order(buy(100), 100.0, 100_000, held.facing(1), held.sellable, closable)
    assert check.order is not None


def test_at_the_days_order_limit_a_halt_or_no_short_selling_is_said_first() -> None:
    """With the day's orders all sent, an order is refused for the first rule that holds, in
    the gate's order: halted and growing, then no short selling, then the day's limit. The
    rebalance asks ``refusal_kind`` before building an order, and only counts the refusal
    when that answer is the day's limit: it must be the reason ``check_order`` gives."""
    risk = RiskManager(RiskLimits(max_orders_per_day=1), RiskState("acct"), allow_short=False)
    risk.on_equity(100_000, D1)
    assert risk.refusal_kind(1, 1.0, 0.0, 0.0) is None
    assert risk.check_order(buy(1), 100.0, 100_000, 0, 0).order is not None
    _slot_taken(risk)
    sell_short = OrderRequest("SPY", Side.SELL, 5, "s")
    cases = [  # (request, sign, committed, sellable, the reason)
        (buy(1), 1, 1.0, 1.0, ORDER_RATE),
        (sell_short, -1, 1.0, 1.0, NO_SHORT),  # sells 5 of 1 held
        (OrderRequest("SPY", Side.SELL, 1, "c"), -1, 1.0, 1.0, ORDER_RATE),
    ]
    for request, sign, committed, sellable, reason in cases:
        check = risk.check_order(request, 100.0, 100_000, committed, sellable)
        assert check.order is None and check.events[0].event_type == reason
        assert risk.refusal_kind(sign, request.qty, committed, sellable) == reason
    risk.halt("manual_kill", 0, 0, "test")
    check = risk.check_order(buy(1), 100.0, 100_000, 1.0, 1.0)
    assert check.order is None and check.events[0].event_type == gate.HALTED_ORDER
    assert risk.refusal_kind(1, 1.0, 1.0, 1.0) == gate.HALTED_ORDER


def test_reset_lifts_a_halt_and_restarts_the_peak() -> None:
    """After a reset, the drawdown is measured from the equity at reset."""
    risk = manager()
    risk.on_equity(100_000, D1)
    risk.on_equity(94_000, D1)
    assert risk.state.halted
    event = risk.reset(94_000)
    assert not risk.state.halted and risk.drawdown_pct(94_000) == 0
    assert "reset" in event.action_taken


@pytest.mark.parametrize(
    "bad",
    [
        {"max_drawdown_pct": 0},
        {"max_daily_loss_pct": -1},
        {"max_position_pct": 101},
        {"max_orders_per_day": 0},
        {"max_drawdown_pct": float("nan")},
    ],
)
def test_meaningless_limits_are_refused(bad: dict) -> None:
    """Zero, negative or over-100% limits cannot be configured."""
    with pytest.raises(ValueError):
        RiskLimits(**bad)


def _working(side: Side, qty: float, cid: str = "tt-k-1-SPY-r", kind: str = "market") -> Order:
    """An order still working at the broker, nothing filled yet."""
    return Order(cid, "SPY", side, qty, OrderType(kind), OrderStatus.NEW, stop_price=90.0)


def test_a_working_buy_never_lets_a_sell_through_while_short_selling_is_off() -> None:
    """Nothing held and a buy of 10 not yet filled: a sell of 10 is refused in plain words
    (the buy may still be cancelled, and the sell would then make a short); the position
    limit still counts the working buy."""
    risk = RiskManager(RiskLimits(), RiskState("acct"), allow_short=False)
    held = holdings({}, [_working(Side.BUY, 10)])["SPY"]
    assert (held.committed, held.sellable) == (10, 0)
    sell = OrderRequest("SPY", Side.SELL, 10, "s")
    check = risk.check_order(sell, 100.0, 100_000, held.committed, held.sellable)
    assert check.order is None
    [event] = check.events
    assert event.event_type == NO_SHORT
    assert event.action_taken == "refused sell 10 SPY: none held and short selling is off"
    full = holdings({}, [_working(Side.BUY, 100)])["SPY"]
    assert risk.check_order(buy(1), 100.0, 100_000, full.committed, full.sellable).order is None


def test_what_a_sell_may_take_is_held_minus_working_sells_and_stops_are_left_out() -> None:
    """Held 10, a sell of 4 working, a buy of 5 working and a protective stop for 10: the
    rebalance stands at 11, a buy is measured against 15 (the sell may never fill), a sell
    may take 6 more."""
    position = {"SPY": Position("SPY", 10, 100.0, 100.0)}
    working = [
        _working(Side.SELL, 4, "tt-k-1-SPY-m1"),
        _working(Side.BUY, 5, "tt-k-1-SPY-m2"),
        _working(Side.SELL, 10, "tt-k-1-SPY-ps1", "stop"),
    ]
    assert holdings(position, working)["SPY"] == Holding(committed=11, sellable=6, bought=15)
    risk = RiskManager(RiskLimits(), RiskState("acct"), allow_short=False)
    sell = OrderRequest("SPY", Side.SELL, 7, "s")
    [event] = risk.check_order(sell, 100.0, 100_000, 11, 6).events
    assert event.action_taken == "refused sell 7 SPY: only 6 held and short selling is off"
    assert risk.check_order(sell.with_qty(6, "test"), 100.0, 100_000, 11, 6).order is not None


def test_an_earlier_days_reading_keeps_the_daily_loss_halt_and_the_order_count() -> None:
    """A day that goes back (a lagging symbol's late bar, the clock stepped back over
    midnight) is not a new trading day: the daily-loss halt and the day's order count stand,
    and nothing says "trading resumed"."""
    risk = manager()
    risk.on_equity(100_000, D2)
    risk.state = risk.state.with_orders(7)
    (event,) = risk.on_equity(97_000, D2)
    assert event.event_type == DAILY_LOSS and risk.state.halted
    assert risk.on_equity(97_500, D1) == []
    assert risk.state.halted and risk.state.halt_reason == DAILY_LOSS
    assert (risk.state.day, risk.state.orders_today) == (D2, 7)
    assert risk.state.day_open_equity == 100_000


def test_a_second_halt_keeps_the_first_halts_reason() -> None:
    """Halted on drawdown, then the broker contradicts itself in the same cycle: the halt's
    reason stays the drawdown (what a trader resuming must see); the second halt is still its
    own event and says the session was already halted."""
    risk = manager()
    risk.on_equity(100_000, D1)
    risk.on_equity(94_000, D1)
    event = risk.halt("broker_contradiction", 1.0, 0.0, "a fill for more than the order")
    assert risk.state.halt_reason == DRAWDOWN and "below peak" in risk.state.halt_detail
    assert event.event_type == "broker_contradiction"
    assert event.action_taken == "halted trading until reset (already halted for " + DRAWDOWN + ")"


def test_a_lasting_halt_after_a_daily_loss_halt_outlives_the_day() -> None:
    """A manual kill while a daily-loss halt holds: the new day must not lift the kill with
    the daily loss; the daily loss's words stay in the halt's detail."""
    risk = manager()
    risk.on_equity(100_000, D1)
    risk.on_equity(97_000, D1)
    risk.halt(MANUAL_KILL, 0.0, 0.0, "kill switch pressed by user")
    assert risk.state.halt_reason == MANUAL_KILL
    assert "halted before that for " + DAILY_LOSS in risk.state.halt_detail
    assert risk.on_equity(97_000, D2) == []
    assert risk.state.halted and risk.state.halt_reason == MANUAL_KILL


def test_an_order_written_back_counts_toward_its_own_day_only() -> None:
    """An order whose row was lost (``engine.lost_rows``) counts like one sent: toward the
    current day; an earlier day's leaves today's count alone; one of a day the state has not
    begun begins that day (a daily-loss halt of the day before ends with it, and says so)."""
    risk = manager()
    risk.on_equity(100_000, D1)
    risk.state = risk.state.with_orders(3)
    assert risk.count_lost_order(D1, 100_000) == [] and risk.state.orders_today == 4
    assert risk.count_lost_order(None, 100_000) == [] and risk.state.orders_today == 5
    risk.on_equity(97_000, D1)  # a daily-loss halt on D1
    (event,) = risk.count_lost_order(D2, 97_000, 97_500)
    assert "new trading day" in event.action_taken and not risk.state.halted
    assert (risk.state.day, risk.state.orders_today, risk.state.day_open_equity) == (D2, 1, 97_500)
    assert risk.count_lost_order(D1, 97_000) == [] and risk.state.orders_today == 1
    assert risk.on_equity(97_000, D2) == [] and risk.state.orders_today == 1
